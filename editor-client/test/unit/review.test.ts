import assert from 'node:assert/strict';
import { Command } from '../../src/commands/ids';
import { FileChange, ServerCommand } from '../../src/protocol';
import { PROPOSAL_SCHEME } from '../../src/review';
import { RUNS_VIEW } from '../../src/runsTree';
import { LanguageClient } from '../stubs/languageclient';
import { fake, Uri } from '../stubs/vscode';
import {
  activateExtension,
  FILES,
  fileUri,
  run,
  RUN_ID,
  runResult,
  runSummary,
  serverAnswers,
  useFakes,
} from './harness';

type Resource = [Uri, Uri | undefined, Uri | undefined];

/** The resources of the `vscode.changes` call, as strings, and the texts they show. */
function openedChanges(): { title: unknown; pairs: (string | undefined)[][]; texts: (string | undefined)[][] } {
  const call = fake.executed.find((executed) => executed.command === 'vscode.changes');
  assert.ok(call, 'vscode.changes was called');
  const [title, resources] = call.args as [string, Resource[]];
  const provider = fake.contentProviders.get(PROPOSAL_SCHEME)!;
  return {
    title,
    pairs: resources.map((resource) => resource.map((uri) => uri?.toString())),
    texts: resources.map(([, original, proposed]) =>
      [original, proposed].map((uri) => (uri ? provider.provideTextDocumentContent(uri) : undefined)),
    ),
  };
}

/** The server of a completed run with `files`, whose edits the editor applies or refuses. */
function answerReview(files: FileChange[] = FILES, refusal?: string): void {
  serverAnswers({
    [ServerCommand.listRuns]: () => [runSummary('completed')],
    [ServerCommand.getRun]: () => {
      const { applied: _applied, ...stored } = runResult('completed', files);
      return stored;
    },
    [ServerCommand.applyRun]: ({ runId, paths }) =>
      refusal === undefined ? { runId, applied: true, paths } : { runId, applied: false, paths, reason: refusal },
  });
}

describe('Review Run', () => {
  useFakes();

  beforeEach(async () => {
    await activateExtension();
    answerReview();
  });

  function applied(): string[][] {
    return LanguageClient.current.arguments(ServerCommand.applyRun).map((argument) => {
      assert.equal(argument.runId, RUN_ID);
      return argument.paths;
    });
  }

  it('names each file in the diff by where it goes in the workspace, not by its path in the project', async () => {
    const inProject: FileChange = {
      path: 'counter.py',
      uri: fileUri('word_counter/counter.py'),
      change: 'create',
      before: null,
      after: 'N = 1\n',
    };
    answerReview([inProject]);
    fake.answerQuickPick('a word-frequency CLI');

    await run(Command.reviewRun);

    assert.deepEqual(openedChanges().pairs, [
      [
        fileUri('word_counter/counter.py'),
        undefined,
        `sopls-proposal:/word_counter/counter.py?run=${RUN_ID}&side=after`,
      ],
    ]);
  });

  it('opens a multi-file diff of (original, proposed) pairs from the run', async () => {
    fake.answerQuickPick('a word-frequency CLI');

    await run(Command.reviewRun);

    const changes = openedChanges();
    assert.equal(changes.title, `sopls run ${RUN_ID}: a word-frequency CLI`);
    assert.deepEqual(changes.pairs, [
      [fileUri('word_freq/main.py'), undefined, `sopls-proposal:/word_freq/main.py?run=${RUN_ID}&side=after`],
      [
        fileUri('wordfreq/counter.py'),
        `sopls-proposal:/wordfreq/counter.py?run=${RUN_ID}&side=before`,
        `sopls-proposal:/wordfreq/counter.py?run=${RUN_ID}&side=after`,
      ],
      [fileUri('obsolete.py'), `sopls-proposal:/obsolete.py?run=${RUN_ID}&side=before`, undefined],
    ]);
    assert.deepEqual(changes.texts, [
      [undefined, 'print("hello")\n'],
      ['old = 1\n', 'new = 2\n'],
      ['gone = 3\n', undefined],
    ]);
    assert.deepEqual(fake.executed.find((call) => call.command === 'setContext')?.args, ['sopls.reviewing', true]);
    assert.match(fake.messages[0].text, /3 of 3 files to review/);
    assert.deepEqual(fake.messages[0].items, ['Accept All', 'Accept File…', 'Discard']);
    assert.deepEqual(applied(), [], 'nothing is applied before the user accepts');
  });

  it('Accept File applies only that file, and Accept All then applies the rest', async () => {
    fake.answerMessage(/3 of 3 files to review/, 'Accept File…');
    fake.answerQuickPick('wordfreq/counter.py');
    fake.answerMessage(/2 of 3 files to review/, 'Accept All');

    await run(Command.reviewRun, RUN_ID);

    assert.deepEqual(applied(), [['wordfreq/counter.py'], ['word_freq/main.py', 'obsolete.py']]);
    assert.match(fake.messages.at(-1)?.text ?? '', /applied the proposal of run .* \(3 files\)/);
    assert.deepEqual(fake.executed.filter((call) => call.command === 'setContext').at(-1)?.args, [
      'sopls.reviewing',
      false,
    ]);
  });

  it('Accept File from the runs tree applies that file', async () => {
    await run(Command.showRuns);
    const tree = fake.treeProviders.get(RUNS_VIEW)!;
    const [runNode] = await tree.getChildren();
    const fileNodes = await tree.getChildren(runNode);

    await run(Command.acceptFile, fileNodes[2]);

    assert.deepEqual(applied(), [['obsolete.py']]);
    const items = (await tree.getChildren(runNode)).map((node) => tree.getTreeItem(node));
    assert.deepEqual(
      items.map((item) => item.description),
      ['create', 'modify', 'delete · accepted'],
    );
  });

  it('Discard applies nothing and forgets the proposed texts', async () => {
    fake.answerMessage(/files to review/, 'Discard');

    await run(Command.reviewRun, RUN_ID);

    assert.deepEqual(applied(), []);
    const provider = fake.contentProviders.get(PROPOSAL_SCHEME)!;
    const proposed = Uri.parse(`sopls-proposal:/word_freq/main.py?run=${RUN_ID}&side=after`);
    assert.equal(provider.provideTextDocumentContent(proposed), '');
    assert.match(fake.messages.at(-1)?.text ?? '', /discarded the proposal of run .*; nothing was applied/);
  });

  it('a review left open is finished from the palette', async () => {
    await run(Command.reviewRun, RUN_ID);
    fake.answerQuickPick('word_freq/main.py');

    await run(Command.acceptFile);
    await run(Command.acceptAll);

    assert.deepEqual(applied(), [['word_freq/main.py'], ['wordfreq/counter.py', 'obsolete.py']]);
  });

  it('accepted files are saved, since a workspace edit leaves them unsaved', async () => {
    const saved: string[] = [];
    fake.textDocuments = FILES.map((file) => ({
      uri: Uri.parse(file.uri),
      isDirty: true,
      save: async () => saved.push(file.path) > 0,
    }));
    fake.answerMessage(/files to review/, 'Accept All');

    await run(Command.reviewRun, RUN_ID);

    assert.deepEqual(saved, ['word_freq/main.py', 'wordfreq/counter.py']);
  });

  it('a run that is not completed cannot be reviewed', async () => {
    serverAnswers({
      [ServerCommand.listRuns]: () => [runSummary('budget_exceeded')],
      [ServerCommand.getRun]: () => runResult('budget_exceeded'),
    });

    await run(Command.reviewRun, RUN_ID);

    assert.deepEqual(fake.messages, [
      {
        level: 'error',
        text: `sopls: run ${RUN_ID} is budget exceeded; only a completed run can be reviewed. Resume it first.`,
        items: [],
      },
    ]);
  });

  it('Accept All without a review open says how to open one', async () => {
    await run(Command.acceptAll);

    assert.deepEqual(fake.messages, [
      { level: 'error', text: 'sopls: no run is under review; "sopls: Review Run" opens one.', items: [] },
    ]);
  });

  it('a finished run opens its review at once', async () => {
    serverAnswers({
      [ServerCommand.listRuns]: () => [runSummary('completed')],
      [ServerCommand.generateProject]: () => runResult(),
      [ServerCommand.applyRun]: ({ runId, paths }) => ({ runId, applied: true, paths }),
    });
    fake.answerInput('a word-frequency CLI');
    fake.answerQuickPick('Start');
    fake.answerMessage(/files to review/, 'Accept All');

    await run(Command.generateProject);

    assert.equal(openedChanges().pairs.length, 3);
    assert.deepEqual(applied(), [['word_freq/main.py', 'wordfreq/counter.py', 'obsolete.py']]);
  });
});

describe('the review order and its tab', () => {
  useFakes();

  const file = (path: string): FileChange => ({
    path,
    uri: fileUri(path),
    change: 'create',
    before: null,
    after: 'x\n',
  });
  const PATHS = ['wc/docs/prd.json', 'wc/tests/test_counter.py', 'wc/counter.py', 'wc/docs/prd.md', 'wc/main.py'];

  beforeEach(async () => {
    await activateExtension();
    answerReview(PATHS.map(file));
  });

  it('lists the code first, then the tests, then the documents', async () => {
    await run(Command.reviewRun, RUN_ID);

    assert.deepEqual(
      openedChanges().pairs.map(([target]) => target),
      ['wc/counter.py', 'wc/main.py', 'wc/tests/test_counter.py', 'wc/docs/prd.json', 'wc/docs/prd.md'].map(fileUri),
    );
  });

  for (const choice of ['Accept All', 'Discard']) {
    it(`closes the diff after ${choice}`, async () => {
      fake.answerMessage(/files to review/, choice);

      await run(Command.reviewRun, RUN_ID);

      assert.deepEqual(fake.tabs, []);
    });
  }

  it('keeps the diff open while files are left', async () => {
    fake.answerMessage(/5 of 5 files to review/, 'Accept File…');
    fake.answerQuickPick('wc/main.py');

    await run(Command.reviewRun, RUN_ID);

    assert.deepEqual(fake.tabs, [{ label: `sopls run ${RUN_ID}: a word-frequency CLI (5 files)` }]);
  });
});

describe('an edit the editor refuses', () => {
  useFakes();

  beforeEach(async () => {
    await activateExtension();
    answerReview(FILES, 'word_freq/main.py: the file is read-only');
  });

  it('is reported with the reason, and the review stays open', async () => {
    fake.answerMessage(/3 of 3 files to review/, 'Accept All');

    await run(Command.reviewRun, RUN_ID);

    const warning = fake.messages.find((message) => message.level === 'warning');
    assert.equal(
      warning?.text,
      `sopls: the edit of run ${RUN_ID} was not applied: word_freq/main.py: the file is read-only. Nothing was lost: the review stays open to try again or discard.`,
    );
    assert.match(fake.messages.at(-1)?.text ?? '', /3 of 3 files to review/);
    assert.equal(fake.tabs.length, 1);
  });
});
