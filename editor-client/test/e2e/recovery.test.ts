// When a run does not go to plan in a real VS Code: cancelled and resumed, failed at the
// endpoint, failed on an answer it cannot use, refused for want of the right API key.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { companyRules } from '../protocol/session';
import {
  CODE_FILES,
  failingRules,
  filesUnder,
  IDEA,
  keyedRules,
  PROJECT,
  proposedText,
  UNUSABLE_PRD,
  unusablePrdRules,
} from './company';
import { acceptAll, resume, startGeneration } from './moves';
import { RUN_SECONDS, STEP_SECONDS, Workbench } from './workbench';

function assertProjectWritten(workbench: Workbench): void {
  for (const path of CODE_FILES) {
    assert.equal(readFileSync(join(workbench.workspace, PROJECT, path), 'utf8'), proposedText(path), path);
  }
}

/** The failure message: one sentence naming the run, the role and step, with its actions. */
async function failureToast(workbench: Workbench, actions: string[]): Promise<string> {
  const toast = await workbench.waitForToast(/sopls: run .* failed/, RUN_SECONDS);
  for (const name of actions) {
    await toast.getByRole('button', { name, exact: true }).waitFor({ timeout: STEP_SECONDS * 1000 });
  }
  const text = (await toast.locator('.notification-list-item-message').innerText()).trim();
  await workbench.screenshot('failure');
  assert.doesNotMatch(text, /Traceback|validation error|pydantic|\n/, text);
  assert.match(text, /^sopls: run \S+ failed in ProductManager\/WritePRD: .+\.$/, text);
  return text;
}

describe('Runs that do not go to plan, in VS Code', { timeout: 600_000 }, () => {
  test('Cancel stops the run and writes nothing; Resume Run finishes it to a review that applies', async () => {
    await Workbench.run('cancel-resume', { rules: companyRules(1.5) }, async (workbench) => {
      const progress = await startGeneration(workbench);
      await progress.filter({ hasText: / · \$\d/ }).waitFor({ timeout: RUN_SECONDS * 1000 });
      await progress.getByRole('button', { name: 'Cancel' }).click();
      await workbench.waitForToast(/the run was cancelled/, RUN_SECONDS);
      await workbench.screenshot('cancelled');
      assert.deepEqual(filesUnder(workbench.workspace), [], 'a cancelled run writes nothing');

      await resume(workbench, new RegExp(IDEA));
      await workbench.waitForToast(`sopls: ${IDEA}`);
      await acceptAll(workbench);
      assertProjectWritten(workbench);
    });
  });

  test('An endpoint that fails is one sentence with Resume Run and Show Log, and the log has the details', async () => {
    await Workbench.run(
      'endpoint-failure',
      { rules: failingRules(), environment: { SOPLS_LLM__MAX_RETRIES: '0' } },
      async (workbench) => {
        await startGeneration(workbench);
        await failureToast(workbench, ['Resume Run', 'Show Log']);
        await workbench.clickToastButton(/failed in ProductManager/, 'Show Log');
        const output = workbench.page.locator('.part.panel .view-lines');
        await output.filter({ hasText: /ProductManager\/WritePRD/ }).waitFor({ timeout: STEP_SECONDS * 1000 });
        await workbench.screenshot('log');
        assert.deepEqual(filesUnder(workbench.workspace), []);
      },
    );
  });

  test('An answer the run cannot use is named in plain words and opens with Open Model Answer', async () => {
    await Workbench.run('unusable-answer', { rules: unusablePrdRules() }, async (workbench) => {
      await startGeneration(workbench);
      const text = await failureToast(workbench, ['Resume Run', 'Show Log', 'Open Model Answer']);
      assert.match(text, /after \d+ tries/, text);
      await workbench.clickToastButton(/failed in ProductManager/, 'Open Model Answer');
      await workbench.page
        .locator('.editor-group-container .view-lines')
        .filter({ hasText: UNUSABLE_PRD.slice(0, 30) })
        .waitFor({ timeout: STEP_SECONDS * 1000 });
      await workbench.screenshot('model-answer');
    });
  });

  test('Set API Key keeps the key the endpoint wants; the refused run then resumes with it', async () => {
    const key = 'sk-e2e-7f3a9c';
    await Workbench.run(
      'api-key',
      { rules: keyedRules(key), apiKey: null, environment: { SOPLS_LLM__MAX_RETRIES: '0' } },
      async (workbench) => {
        await startGeneration(workbench);
        await failureToast(workbench, ['Resume Run', 'Show Log']);

        await workbench.runCommand('sopls: Set API Key');
        await workbench.answerInput(/API key of your LLM endpoint/, key);
        await workbench.waitForToast(/API key saved/);
        assert.doesNotMatch(await workbench.page.content(), new RegExp(key), 'the key is not shown on screen');

        await resume(workbench, new RegExp(IDEA));
        await acceptAll(workbench);
        assertProjectWritten(workbench);
      },
    );
  });
});
