import assert from 'node:assert/strict';
import { Command } from '../../src/commands/ids';
import { RUN_EVENT, ServerCommand } from '../../src/protocol';
import { LanguageClient, LSPErrorCodes, ResponseError } from '../stubs/languageclient';
import { fake } from '../stubs/vscode';
import { activateExtension, run, RUN_ID, runResult, runSummary, serverAnswers, useFakes } from './harness';

describe('progress, cancellation and cost', () => {
  useFakes();

  beforeEach(async () => {
    await activateExtension();
    fake.answerInput('a word-frequency CLI');
    fake.answerQuickPick('Start');
  });

  it("shows the server's stage and file messages in a cancellable notification", async () => {
    let shownBeforeTheServer: object[] = [];
    serverAnswers({
      [ServerCommand.listRuns]: () => [],
      [ServerCommand.generateProject]: (_argument, request) => {
        const client = LanguageClient.current;
        const token = request.params.workDoneToken!;
        shownBeforeTheServer = [...fake.progress[0].reports];
        client.progress(token, {
          kind: 'begin',
          title: 'sopls: a word-frequency CLI',
          cancellable: true,
          message: 'starting',
          percentage: 0,
        });
        client.progress(token, {
          kind: 'report',
          message: 'ProductManager · WritePRD · $0.0010',
          percentage: 15,
          cancellable: true,
        });
        client.progress(token, {
          kind: 'report',
          message: 'Engineer · main.py (1/2) · $0.0040',
          percentage: 62,
          cancellable: true,
        });
        client.progress(token, { kind: 'end', message: 'completed · $0.0050' });
        return runResult('completed', []);
      },
    });

    await run(Command.generateProject);

    assert.deepEqual(shownBeforeTheServer, [{ message: 'starting', increment: 0 }]);
    const [notification] = fake.progress;
    assert.deepEqual(notification.options, { location: 15, title: 'sopls: a word-frequency CLI', cancellable: true });
    assert.deepEqual(notification.reports, [
      { message: 'starting', increment: 0 },
      { message: 'ProductManager · WritePRD · $0.0010', increment: 15 },
      { message: 'Engineer · main.py (1/2) · $0.0040', increment: 47 },
    ]);
    assert.match(fake.messages.at(-1)?.text ?? '', /finished with no changes/);
  });

  it('Cancel cancels the request (sent as $/cancelRequest) and says how to resume', async () => {
    let cancelledRequest = false;
    serverAnswers({
      [ServerCommand.listRuns]: () => [runSummary('cancelled')],
      [ServerCommand.generateProject]: async (_argument, request) => {
        // The user presses Cancel on the notification while the server works.
        fake.progress[0].cancel();
        cancelledRequest = request.token?.isCancellationRequested ?? false;
        throw new ResponseError(LSPErrorCodes.RequestCancelled, 'Request got cancelled');
      },
    });

    await run(Command.generateProject);

    assert.equal(cancelledRequest, true);
    assert.deepEqual(fake.messages, [
      { level: 'information', text: 'sopls: the run was cancelled; "sopls: Resume Run" continues it.', items: [] },
    ]);
  });

  it("the status bar shows a running run's cost from sopls/runEvent, and hides when it ends", async () => {
    const shown: string[] = [];
    serverAnswers({
      [ServerCommand.listRuns]: () => [runSummary('completed')],
      [ServerCommand.generateProject]: async () => {
        const client = LanguageClient.current;
        client.notify(RUN_EVENT, {
          runId: RUN_ID,
          role: 'ProductManager',
          action: 'WritePRD',
          status: 'finished',
          cost: 0.0012,
        });
        client.notify(RUN_EVENT, {
          runId: RUN_ID,
          role: 'Engineer',
          action: 'WriteCode',
          status: 'started',
          path: 'main.py',
          cost: 0.0456,
        });
        const item = fake.statusBarItems.find((candidate) => candidate.id === 'sopls.cost')!;
        shown.push(item.visible ? item.text : 'hidden', item.command ?? '');
        return runResult('completed', []);
      },
    });

    await run(Command.generateProject);

    assert.deepEqual(shown, ['$(sync~spin) sopls $0.0456', Command.showRuns]);
    assert.equal(fake.statusBarItems.find((item) => item.id === 'sopls.cost')?.visible, false);
  });
});
