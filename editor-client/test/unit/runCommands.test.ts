import assert from 'node:assert/strict';
import { Command } from '../../src/commands/ids';
import { ServerCommand } from '../../src/protocol';
import { RUNS_VIEW } from '../../src/runsTree';
import { LanguageClient } from '../stubs/languageclient';
import { fake, TreeItem, Uri } from '../stubs/vscode';
import { activateExtension, run, RUN_ID, runResult, runSummary, serverAnswers, useFakes, WORKSPACE } from './harness';

const DEFAULTS = { investment: 3, codeReview: true, runTests: false };

function answerRuns(...runs: ReturnType<typeof runSummary>[]) {
  return { [ServerCommand.listRuns]: () => runs };
}

describe('run commands', () => {
  useFakes();

  beforeEach(async () => {
    await activateExtension();
  });

  it('Generate Project from Idea sends sopls.generateProject with the idea and the default options', async () => {
    serverAnswers({ ...answerRuns(), [ServerCommand.generateProject]: () => runResult() });
    fake.answerInput('a word-frequency CLI');
    fake.answerQuickPick('Start');

    await run(Command.generateProject);

    const [request] = LanguageClient.current.sent(ServerCommand.generateProject);
    assert.equal(request.method, 'workspace/executeCommand');
    assert.equal(request.params.command, 'sopls.generateProject');
    assert.deepEqual(request.params.arguments, [
      { idea: 'a word-frequency CLI', ...DEFAULTS, apply: 'none', showFailure: false },
    ]);
    assert.match(request.params.workDoneToken ?? '', /^sopls-/);
    assert.equal(request.token?.isCancellationRequested, false);
  });

  it('the options picker changes the investment, the tests and the target folder', async () => {
    serverAnswers({ ...answerRuns(), [ServerCommand.generateProject]: () => runResult() });
    fake.answerInput('a word-frequency CLI', '5.5');
    fake.answerQuickPick('Investment', 'Run tests', 'Code review', 'Target folder', 'Start');
    fake.openDialogAnswers.push([Uri.file('/home/user/wordfreq')]);

    await run(Command.generateProject);

    assert.deepEqual(LanguageClient.current.arguments(ServerCommand.generateProject), [
      {
        idea: 'a word-frequency CLI',
        investment: 5.5,
        codeReview: false,
        runTests: true,
        targetUri: 'file:///home/user/wordfreq',
        apply: 'none',
        showFailure: false,
      },
    ]);
  });

  it('the run options come from the settings', async () => {
    serverAnswers({ ...answerRuns(), [ServerCommand.generateProject]: () => runResult() });
    fake.settings.set('sopls.run.investment', 1.25);
    fake.settings.set('sopls.run.runTests', true);
    fake.answerInput('x');
    fake.answerQuickPick('Start');

    await run(Command.generateProject);

    assert.deepEqual(LanguageClient.current.arguments(ServerCommand.generateProject), [
      { idea: 'x', investment: 1.25, codeReview: true, runTests: true, apply: 'none', showFailure: false },
    ]);
  });

  it('an empty idea is refused before anything is sent', async () => {
    fake.answerInput('   ');

    await run(Command.generateProject);

    assert.deepEqual(fake.messages, [
      { level: 'error', text: 'sopls: the idea is empty: say what to build.', items: [] },
    ]);
    assert.equal(LanguageClient.instances.length, 0, 'the server was not even needed');
  });

  it('escaping the idea or the options sends nothing and says nothing', async () => {
    fake.answerInput(undefined, 'an idea');
    fake.answerQuickPick(undefined);

    await run(Command.generateProject);
    await run(Command.generateProject);

    assert.deepEqual(fake.messages, []);
    assert.equal(LanguageClient.instances.length, 0);
  });

  it('without a workspace folder the run commands say to open one', async () => {
    fake.workspaceFolders = undefined;

    for (const command of [Command.generateProject, Command.requestFeature, Command.fixBug]) {
      await run(command);
    }

    assert.equal(fake.messages.length, 3);
    for (const message of fake.messages) {
      assert.equal(message.level, 'error');
      assert.match(message.text, /^sopls: open a folder first/);
    }
    assert.equal(fake.inputBoxes.length, 0);
  });

  it('Request Feature sends sopls.requestFeature; a repository change runs its tests by default', async () => {
    serverAnswers({ ...answerRuns(), [ServerCommand.requestFeature]: () => runResult() });
    fake.answerInput('add a --top option');
    fake.answerQuickPick('Start');

    await run(Command.requestFeature);

    assert.deepEqual(LanguageClient.current.arguments(ServerCommand.requestFeature), [
      { requirement: 'add a --top option', ...DEFAULTS, runTests: true, apply: 'none', showFailure: false },
    ]);
  });

  it('Fix Bug sends the description and the selected failing output', async () => {
    serverAnswers({ ...answerRuns(), [ServerCommand.fixBug]: () => runResult() });
    const selection = { isEmpty: false };
    fake.activeTextEditor = {
      selection,
      document: {
        getText: (range: unknown) => (range === selection ? 'FAILED tests/test_main.py::test_top\nassert 1 == 2' : ''),
      },
    };
    fake.clipboard = 'something else';
    fake.answerInput('apostrophes split words');
    fake.answerQuickPick('Selected text', 'Start');

    await run(Command.fixBug);

    assert.deepEqual(LanguageClient.current.arguments(ServerCommand.fixBug), [
      {
        description: 'apostrophes split words',
        testOutput: 'FAILED tests/test_main.py::test_top\nassert 1 == 2',
        ...DEFAULTS,
        runTests: true,
        apply: 'none',
        showFailure: false,
      },
    ]);
  });

  it('Fix Bug offers the clipboard, and sends no output when there is none', async () => {
    serverAnswers({ ...answerRuns(), [ServerCommand.fixBug]: () => runResult() });
    fake.answerInput('crash on empty files', 'crash on empty files');
    fake.clipboard = 'Traceback (most recent call last):\nZeroDivisionError';
    fake.answerQuickPick('Clipboard', 'Start');

    await run(Command.fixBug);
    fake.clipboard = '';
    fake.answerQuickPick('Start');
    await run(Command.fixBug);

    const [withOutput, without] = LanguageClient.current.arguments(ServerCommand.fixBug);
    assert.equal(withOutput.testOutput, 'Traceback (most recent call last):\nZeroDivisionError');
    assert.equal('testOutput' in without, false);
  });

  it('Resume Run offers the unfinished runs and sends sopls.resumeRun', async () => {
    serverAnswers({
      ...answerRuns(runSummary('completed', 'done'), runSummary('cancelled')),
      [ServerCommand.resumeRun]: () => runResult(),
    });
    let offered: string[] = [];
    fake.quickPickAnswers.push((items) => {
      offered = items.map((item) => item.label);
      return items[0];
    });

    await run(Command.resumeRun);

    assert.deepEqual(offered, ['a word-frequency CLI']);
    assert.deepEqual(LanguageClient.current.arguments(ServerCommand.resumeRun), [
      { runId: RUN_ID, apply: 'none', showFailure: false },
    ]);
  });

  it('resuming a run that spent its budget asks for a bigger one', async () => {
    serverAnswers({
      ...answerRuns(runSummary('budget_exceeded', RUN_ID, 3)),
      [ServerCommand.resumeRun]: () => runResult(),
    });
    fake.answerInput('6');

    await run(Command.resumeRun, RUN_ID);

    assert.match(fake.inputBoxes[0].prompt ?? '', /spent \$3\.00,/);
    assert.deepEqual(LanguageClient.current.arguments(ServerCommand.resumeRun), [
      { runId: RUN_ID, investment: 6, apply: 'none', showFailure: false },
    ]);
  });

  it('Cancel Run offers the running runs and sends sopls.cancelRun', async () => {
    serverAnswers({
      ...answerRuns(runSummary('running'), runSummary('failed', 'other')),
      [ServerCommand.cancelRun]: ({ runId }) => ({ runId, cancelled: true }),
    });
    fake.answerQuickPick('a word-frequency CLI');

    await run(Command.cancelRun);

    assert.deepEqual(LanguageClient.current.arguments(ServerCommand.cancelRun), [{ runId: RUN_ID }]);
    assert.deepEqual(fake.messages, []);
  });

  it('Cancel Run says so when no run is going', async () => {
    serverAnswers(answerRuns(runSummary('completed')));

    await run(Command.cancelRun);

    assert.deepEqual(fake.messages, [{ level: 'information', text: 'sopls: no run is going.', items: [] }]);
  });

  it('Show Runs lists the runs with status and cost, and their files', async () => {
    serverAnswers({
      ...answerRuns(runSummary('completed'), runSummary('budget_exceeded', 'second', 2.5)),
      [ServerCommand.getRun]: () => runResult(),
    });

    await run(Command.showRuns);

    assert.deepEqual(
      fake.executed.map((call) => call.command),
      [`${RUNS_VIEW}.focus`],
    );
    const tree = fake.treeProviders.get(RUNS_VIEW)!;
    const nodes = await tree.getChildren();
    const items = nodes.map((node) => tree.getTreeItem(node));
    assert.deepEqual(
      items.map((item) => [item.label, item.description, item.contextValue]),
      [
        ['a word-frequency CLI', 'completed · $0.0123 · 5 min ago', 'run.completed'],
        ['a word-frequency CLI', 'budget exceeded · $2.50 · 5 min ago', 'run.budget_exceeded'],
      ],
    );
    const files = (await tree.getChildren(nodes[0])).map((node) => tree.getTreeItem(node) as TreeItem);
    assert.deepEqual(
      files.map((item) => [item.label, item.description, item.resourceUri?.toString()]),
      [
        ['word_freq/main.py', 'create', `file://${WORKSPACE}/word_freq/main.py`],
        ['wordfreq/counter.py', 'modify', `file://${WORKSPACE}/wordfreq/counter.py`],
        ['obsolete.py', 'delete', `file://${WORKSPACE}/obsolete.py`],
      ],
    );
    assert.deepEqual(LanguageClient.current.arguments(ServerCommand.getRun), [{ runId: RUN_ID }]);
  });

  it('a run that spent its budget offers to resume it', async () => {
    serverAnswers({
      ...answerRuns(runSummary('budget_exceeded')),
      [ServerCommand.generateProject]: () => runResult('budget_exceeded'),
      [ServerCommand.resumeRun]: () => runResult('cancelled'),
    });
    fake.answerInput('an idea', '10');
    fake.answerQuickPick('Start');
    fake.answerMessage(/has spent its budget/, 'Resume Run');

    await run(Command.generateProject);

    assert.deepEqual(LanguageClient.current.arguments(ServerCommand.resumeRun), [
      { runId: RUN_ID, investment: 10, apply: 'none', showFailure: false },
    ]);
    assert.match(fake.messages.at(-1)?.text ?? '', /was cancelled/);
  });

  it('an error from the server is shown, and the command ends', async () => {
    serverAnswers({
      [ServerCommand.generateProject]: () => {
        throw new Error('invalid arguments: investment: Input should be greater than 0');
      },
    });
    fake.answerInput('an idea');
    fake.answerQuickPick('Start');

    await run(Command.generateProject);

    assert.deepEqual(fake.messages, [
      { level: 'error', text: 'sopls: invalid arguments: investment: Input should be greater than 0', items: [] },
    ]);
  });
});

describe('a failed run', () => {
  useFakes();

  beforeEach(async () => {
    await activateExtension();
  });

  const error = {
    role: 'ProjectManager',
    action: 'WriteTasks',
    message: "the model's task list did not match the expected shape after 3 tries",
    answer: '/tmp/runs/raw/20261206-ProjectManager-WriteTasks-TaskList.txt',
  };

  async function fail(choice?: string, failure: object = error): Promise<void> {
    serverAnswers({
      ...answerRuns(runSummary('failed')),
      [ServerCommand.generateProject]: () => ({ ...runResult('failed', []), error: failure }),
      [ServerCommand.resumeRun]: () => runResult('cancelled'),
    });
    fake.answerInput('an idea');
    fake.answerQuickPick('Start');
    if (choice !== undefined) {
      fake.answerMessage(/failed in/, choice);
    }
    await run(Command.generateProject);
  }

  it('reads as one sentence with its role and step, and offers what to do next', async () => {
    await fail();

    const [request] = LanguageClient.current.sent(ServerCommand.generateProject);
    assert.equal((request.params.arguments?.[0] as { showFailure?: boolean }).showFailure, false);
    assert.deepEqual(fake.messages, [
      {
        level: 'error',
        text: `sopls: run ${RUN_ID} failed in ProjectManager/WriteTasks: the model's task list did not match the expected shape after 3 tries.`,
        items: ['Resume Run', 'Show Log', 'Open Model Answer'],
      },
    ]);
  });

  it('Resume Run resumes it', async () => {
    await fail('Resume Run');

    assert.deepEqual(
      LanguageClient.current.arguments(ServerCommand.resumeRun).map((argument) => argument.runId),
      [RUN_ID],
    );
  });

  it('Open Model Answer opens the answer that could not be used; without one it is not offered', async () => {
    await fail('Open Model Answer');
    assert.deepEqual(
      fake.shownDocuments.map((uri) => uri.toString()),
      [Uri.file(error.answer).toString()],
    );

    fake.messages.length = 0;
    await fail(undefined, { role: '', action: 'write', message: 'the disk is full' });
    assert.deepEqual(fake.messages.at(-1)?.items, ['Resume Run', 'Show Log']);
    assert.match(fake.messages.at(-1)?.text ?? '', /failed in write: the disk is full\.$/);
  });

  it('Show Log shows the log', async () => {
    await fail('Show Log');

    assert.equal(fake.outputChannels[0].shown, true);
  });
});
