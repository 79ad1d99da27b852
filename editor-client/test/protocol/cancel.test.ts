// Cancelling a run the way the extension does ($/cancelRequest from the progress notification's
// Cancel, or sopls.cancelRun), then resuming it, against a slow endpoint.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CancellationTokenSource, ResponseError } from 'vscode-jsonrpc/node';
import { CancelRunResult, RunResult, RunSummary, ServerCommand } from '../../src/protocol';
import { API_KEY, companyRules, ScriptedEndpoint, ServerSession, soplsPython, until } from './session';

const REQUEST_CANCELLED = -32800;
// Each answer of the endpoint takes this long, so a run is still going when it is cancelled.
const DELAY = 0.5;

describe('cancelling a run', () => {
  let endpoint: ScriptedEndpoint;
  let session: ServerSession;

  before(async () => {
    const python = await soplsPython();
    endpoint = await ScriptedEndpoint.start(python, companyRules(DELAY));
    session = await ServerSession.start(python, { llm: { baseUrl: endpoint.baseUrl, apiKey: API_KEY } });
  });

  after(async () => {
    await session?.stop();
    await endpoint?.stop();
  });

  async function runStatus(runId: string): Promise<string | undefined> {
    const runs = await session.execute<RunSummary[]>(ServerCommand.listRuns);
    return runs.find((run) => run.runId === runId)?.status;
  }

  test('$/cancelRequest stops the run within a couple of seconds, and resuming completes it', async () => {
    const cancellation = new CancellationTokenSource();
    const events = session.runEvents.length;
    const running = session.execute<RunResult>(
      ServerCommand.generateProject,
      { idea: 'a word-frequency CLI', codeReview: false, apply: 'none' },
      {
        token: cancellation.token,
        workDoneToken: 'sopls-cancelled',
      },
    );
    await until(
      () => session.runEvents.slice(events).some((event) => event.status === 'finished'),
      30,
      'a finished step',
    );
    const runId = session.runEvents[events].runId;

    const cancelledAt = Date.now();
    cancellation.cancel();
    await assert.rejects(running, (error) => error instanceof ResponseError && error.code === REQUEST_CANCELLED);
    assert.ok(Date.now() - cancelledAt < 2000, `answered ${Date.now() - cancelledAt} ms after the cancel`);
    await until(() => session.progress.get('sopls-cancelled')?.at(-1)?.kind === 'end', 2, 'the progress to end');
    assert.equal(await runStatus(runId), 'cancelled');

    const resumed = await session.execute<RunResult>(
      ServerCommand.resumeRun,
      { runId, apply: 'none' },
      { workDoneToken: 'sopls-resumed' },
    );
    assert.equal(resumed.status, 'completed');
    assert.deepEqual(
      resumed.files
        .filter((file) => !file.path.startsWith('docs/'))
        .map((file) => file.path)
        .sort(),
      ['main.py', 'wordfreq/counter.py'],
    );
  });

  test('sopls.cancelRun stops a run and its command answers "cancelled"', async () => {
    const events = session.runEvents.length;
    const running = session.execute<RunResult>(ServerCommand.generateProject, {
      idea: 'a word-frequency CLI',
      codeReview: false,
      apply: 'none',
    });
    await until(() => session.runEvents.length > events, 30, 'the run to start');
    const runId = session.runEvents[events].runId;
    assert.equal(await runStatus(runId), 'running');

    const cancelledAt = Date.now();
    const answer = await session.execute<CancelRunResult>(ServerCommand.cancelRun, { runId });
    assert.deepEqual(answer, { runId, cancelled: true });
    const result = await running;
    assert.ok(Date.now() - cancelledAt < 2000);
    assert.equal(result.status, 'cancelled');
    assert.equal(result.applied, false);
    assert.equal(await runStatus(runId), 'cancelled');
  });
});
