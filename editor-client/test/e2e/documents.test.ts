// A run's documents in a real VS Code: Show Documents from the review opens the PRD, the design
// and the tasks, with their mermaid diagrams drawn as pictures in the webview.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FrameLocator } from 'playwright-core';
import { companyRules } from '../protocol/session';
import { startGeneration } from './moves';
import { RUN_SECONDS, STEP_SECONDS, Workbench } from './workbench';

/** The document inside the webview: VS Code nests the extension's page in two frames. */
function webviewPage(workbench: Workbench): FrameLocator {
  return workbench.page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
}

describe('Show Documents in VS Code', { timeout: 600_000 }, () => {
  test("the review's Show Documents draws the PRD's and the design's diagrams as pictures", async () => {
    await Workbench.run('documents', { rules: companyRules() }, async (workbench) => {
      await startGeneration(workbench);
      await workbench.clickToastButton(/files to review/, 'Show Documents');

      const page = webviewPage(workbench);
      for (const section of ['prd', 'system_design', 'tasks']) {
        await page.locator(`section#${section}`).waitFor({ timeout: RUN_SECONDS * 1000 });
      }
      const figures = page.locator('figure.diagram');
      await figures
        .first()
        .locator('svg, .diagram-failure')
        .waitFor({ timeout: STEP_SECONDS * 1000 });
      const count = await figures.count();
      assert.ok(count >= 3, `the quadrant chart, the class and the sequence diagram: ${count} figures`);
      for (let index = 0; index < count; index += 1) {
        const figure = figures.nth(index);
        await figure
          .locator('svg, .diagram-failure')
          .first()
          .waitFor({ timeout: STEP_SECONDS * 1000 });
        const failure = await figure.locator('.diagram-error').allInnerTexts();
        assert.deepEqual(failure, [], `figure ${index + 1} is drawn`);
      }
      await workbench.screenshot('documents');
    });
  });

  test('a diagram whose source does not parse shows the parse error and its source', async () => {
    const broken = 'quadrant-1 Leaders\n"wc": [0.3';
    const { rules } = companyRules() as { rules: { match: { schema?: string }; reply: { data?: object } }[] };
    const prd = rules.find((rule) => rule.match.schema === 'PRD')!;
    prd.reply.data = { ...prd.reply.data, competitive_quadrant_chart: broken };
    await Workbench.run('documents-broken-diagram', { rules: { rules } }, async (workbench) => {
      await startGeneration(workbench);
      await workbench.clickToastButton(/files to review/, 'Show Documents');

      const failure = webviewPage(workbench)
        .locator('figure.diagram')
        .filter({ has: workbench.page.locator('.diagram-error') });
      await failure.first().waitFor({ timeout: RUN_SECONDS * 1000 });
      assert.equal(await failure.count(), 1, 'only the broken diagram fails');
      assert.match(await failure.locator('.diagram-error').innerText(), /\S/, 'the parse error is shown');
      assert.match(await failure.locator('.diagram-source').innerText(), /"wc": \[0\.3/, 'with its source');
      await workbench.screenshot('broken-diagram');
    });
  });
});
