// The runs view in a real VS Code: each run with a short title and its status, cost and age in
// sight, and its context actions (here Delete Run, which asks first).
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { companyRules } from '../protocol/session';
import { IDEA } from './company';
import { startGeneration } from './moves';
import { STEP_SECONDS, Workbench } from './workbench';

function runFolders(workspace: string): string[] {
  const runs = join(workspace, '.sopls', 'runs');
  return existsSync(runs) ? readdirSync(runs) : [];
}

describe('The runs view in VS Code', { timeout: 600_000 }, () => {
  test('a run shows its status, cost and age beside a short title, and Delete Run removes it after asking', async () => {
    await Workbench.run('runs-view', { rules: companyRules() }, async (workbench) => {
      const page = workbench.page;
      await startGeneration(workbench);
      await workbench.clickToastButton(/files to review/, 'Discard');
      assert.equal(runFolders(workbench.workspace).length, 1, 'the run is kept after Discard');

      const header = page.locator('.pane-header').filter({ hasText: /sopls runs/i });
      if ((await header.getAttribute('aria-expanded')) !== 'true') {
        await header.click();
      }
      const row = page.locator('.monaco-list-row').filter({ hasText: IDEA }).first();
      await row.waitFor({ timeout: STEP_SECONDS * 1000 });
      const shown = await row.innerText();
      assert.match(
        shown,
        /completed · \$\d+\.\d{2,4} · /,
        `status, cost and age are in sight: ${JSON.stringify(shown)}`,
      );
      await workbench.screenshot('runs-view');

      await row.click({ button: 'right' });
      // VS Code's context menu takes the item on the key, as it does for a keyboard user.
      await page.getByRole('menuitem', { name: 'Delete Run' }).hover();
      await page.keyboard.press('Enter');
      const dialog = page.locator('.monaco-dialog-box');
      await dialog.filter({ hasText: /Delete run .*a word-frequency CLI/ }).waitFor({ timeout: STEP_SECONDS * 1000 });
      await workbench.screenshot('delete-asks');
      await dialog.getByRole('button', { name: 'Delete', exact: true }).click();

      await row.waitFor({ state: 'detached', timeout: STEP_SECONDS * 1000 });
      assert.deepEqual(runFolders(workbench.workspace), [], 'the run folder is removed');
    });
  });
});
