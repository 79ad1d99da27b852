// Generating a project in a real VS Code, as a user does: the palette, the idea, the options,
// the progress notification, the multi-file diff, then Accept All, Accept File or Discard.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { companyRules } from '../protocol/session';
import { CODE_FILES, filesUnder, PROJECT, proposedText } from './company';
import { acceptAll, startGeneration } from './moves';
import { RUN_SECONDS, STEP_SECONDS, until, Workbench } from './workbench';

// Seconds each answer of the endpoint takes, so the progress notification is seen at work.
const ANSWER_DELAY = 0.3;

/** Runs Generate Project from Idea with code review turned off in the options, up to the review. */
async function generateToReview(workbench: Workbench): Promise<void> {
  // The progress notification names the run and, as it goes, the role at work and the cost.
  const progress = await startGeneration(workbench);
  await progress.filter({ hasText: / · \$\d/ }).waitFor({ timeout: RUN_SECONDS * 1000 });
  await workbench.screenshot('progress');
  await progress.waitFor({ state: 'detached', timeout: RUN_SECONDS * 1000 });

  await workbench.waitForToast(/files to review/, RUN_SECONDS);
}

/**
 * The multi-file diff lists the code files first, each under the folder it goes to in the
 * workspace, then the documents, and shows the proposed text.
 */
async function assertReviewShown(workbench: Workbench): Promise<void> {
  const page = workbench.page;
  await page
    .getByRole('tab', { name: /sopls run .*: a word-frequency CLI \(\d+ files\)/ })
    .waitFor({ timeout: STEP_SECONDS * 1000 });
  const diff = page.locator('.multiDiffEditor');
  // Collapsed, every file's header fits on the screen.
  await page.getByRole('button', { name: 'Collapse All Diffs' }).click();
  const headers = diff.locator('.multiDiffEntry .header');
  await until(
    async () => ((await headers.count()) > CODE_FILES.length ? true : undefined),
    STEP_SECONDS,
    'the review to list every file',
  );
  // A header reads `name`, `/folder` and the change's letter (A for a new file).
  const shown = (await headers.allInnerTexts()).map((text) => text.replace(/\s+[AMD]\s*$/, '').replace(/\s+/g, ''));
  const expected = CODE_FILES.map((path) => `${basename(path)}/${dirname(join(PROJECT, path))}`).sort();
  assert.deepEqual(
    shown
      .slice(0, CODE_FILES.length)
      .map((header) => header.split(' ').slice(0, 2).join(' '))
      .sort(),
    expected,
    `the code comes first, each under the folder it goes to: ${shown}`,
  );
  assert.ok(
    shown.slice(CODE_FILES.length).every((header) => header.includes(`${PROJECT}/docs`)),
    `then the documents, under ${PROJECT}/docs: ${shown}`,
  );
  await workbench.screenshot('review-files');
  await page.getByRole('button', { name: 'Expand All Diffs' }).click();
  await diff
    .locator('.multiDiffEntry')
    .filter({ has: page.locator('.header', { hasText: 'main.py' }) })
    .locator('.modified-in-monaco-diff-editor .view-lines')
    .filter({ hasText: 'The word-frequency command line.' })
    .waitFor({ timeout: STEP_SECONDS * 1000 });
  await workbench.screenshot('review');
}

/** The review's tab closes once the review is done. */
async function assertReviewClosed(workbench: Workbench): Promise<void> {
  await workbench.page
    .getByRole('tab', { name: /sopls run .*: a word-frequency CLI/ })
    .waitFor({ state: 'detached', timeout: STEP_SECONDS * 1000 });
}

function projectFile(workbench: Workbench, path: string): string {
  return join(workbench.workspace, PROJECT, path);
}

describe('Generate Project from Idea in VS Code', { timeout: 600_000 }, () => {
  test('Accept All writes every proposed file with the proposed text', async () => {
    await Workbench.run('accept-all', { rules: companyRules(ANSWER_DELAY) }, async (workbench) => {
      await generateToReview(workbench);
      await assertReviewShown(workbench);
      assert.deepEqual(filesUnder(workbench.workspace), [], 'nothing is written before the review is accepted');

      await acceptAll(workbench);
      await assertReviewClosed(workbench);
      await workbench.screenshot('accepted');

      for (const path of CODE_FILES) {
        assert.equal(readFileSync(projectFile(workbench, path), 'utf8'), proposedText(path), path);
      }
      const written = filesUnder(join(workbench.workspace, PROJECT));
      assert.ok(
        CODE_FILES.every((path) => written.includes(path)),
        `every code file is written: ${written}`,
      );
      assert.ok(
        written.some((path) => path.startsWith('docs/')),
        `the documents are written too: ${written}`,
      );
    });
  });

  test('Discard writes nothing', async () => {
    await Workbench.run('discard', { rules: companyRules(ANSWER_DELAY) }, async (workbench) => {
      await generateToReview(workbench);
      await assertReviewShown(workbench);

      await workbench.clickToastButton(/files to review/, 'Discard');
      await workbench.waitForToast(/discarded the proposal of run .* nothing was applied/);
      await assertReviewClosed(workbench);
      await workbench.screenshot('discarded');

      assert.deepEqual(filesUnder(workbench.workspace), [], 'the workspace holds only sopls state');
      assert.equal(existsSync(join(workbench.workspace, PROJECT)), false);
    });
  });

  test('Accept File writes only the file picked', async () => {
    await Workbench.run('accept-file', { rules: companyRules(ANSWER_DELAY) }, async (workbench) => {
      await generateToReview(workbench);
      await assertReviewShown(workbench);

      await workbench.clickToastButton(/files to review/, 'Accept File…');
      await workbench.quickInput.getByText('sopls: Accept File').waitFor({ timeout: STEP_SECONDS * 1000 });
      await workbench.screenshot('accept-file-pick');
      await workbench.pick(/wordfreq\/counter\.py/);
      // The review goes on with one file fewer.
      await workbench.waitForToast(/files to review/);
      await workbench.screenshot('accepted-one');

      const path = 'wordfreq/counter.py';
      assert.equal(readFileSync(projectFile(workbench, path), 'utf8'), proposedText(path));
      assert.deepEqual(filesUnder(workbench.workspace), [`${PROJECT}/${path}`], 'no other file is written');
    });
  });
});
