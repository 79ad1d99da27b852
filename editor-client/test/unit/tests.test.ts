import assert from 'node:assert/strict';
import { Command } from '../../src/commands/ids';
import { RUN_EVENT, RunResult, ServerCommand, TestsDocument } from '../../src/protocol';
import { LanguageClient } from '../stubs/languageclient';
import { fake } from '../stubs/vscode';
import { activateExtension, run, RUN_ID, runResult, runSummary, serverAnswers, useFakes } from './harness';

const AFTER = { passed: 3, failed: 0, errors: 0, exitCode: 0, timedOut: false };

function tests(verdict: TestsDocument['verdict'], extra: Partial<TestsDocument> = {}): TestsDocument {
  return { before: null, after: AFTER, newlyFailing: [], stillFailing: [], fixed: [], verdict, ...extra };
}

/** Generate Project, answered with `result`; the messages it ends with. */
async function finish(result: RunResult): Promise<typeof fake.messages> {
  serverAnswers({
    [ServerCommand.listRuns]: () => [runSummary('completed')],
    [ServerCommand.generateProject]: () => result,
  });
  fake.answerInput('a word-frequency CLI');
  fake.answerQuickPick('Start');
  await run(Command.generateProject);
  return fake.messages;
}

describe('tests at the end of a run', () => {
  useFakes();

  beforeEach(async () => {
    await activateExtension();
  });

  it('passing tests are good news in the completion message', async () => {
    const line = 'tests: 3 passed';
    const messages = await finish({ ...runResult('completed', []), tests: tests('passed', { line }) });

    assert.deepEqual(messages, [
      { level: 'information', text: `sopls: run ${RUN_ID} finished with no changes ($0.0123); ${line}.`, items: [] },
    ]);
  });

  it('failing tests are a warning, shown before the review of the changes', async () => {
    const line = 'tests: 1 failed before → 1 failed after; still failing: tests/test_calc.py::test_add';
    const messages = await finish({ ...runResult(), tests: tests('failed', { line }) });

    assert.deepEqual(messages[0], {
      level: 'warning',
      text: `sopls: run ${RUN_ID} finished ($0.0123); ${line}.`,
      items: [],
    });
    assert.match(messages[1].text, /files to review/);
    assert.ok(fake.executed.some((call) => call.command === 'vscode.changes'));
  });

  it('tests that could not run are a warning, with the reason when the server sent no line', async () => {
    const reason = "tests/test_x.py cannot be collected: ModuleNotFoundError: No module named 'nope'";
    const messages = await finish({ ...runResult('completed', []), tests: tests('not run', { reason }) });

    assert.equal(messages.length, 1);
    assert.equal(messages[0].level, 'warning');
    assert.ok(messages[0].text.endsWith(`; tests: not run — ${reason}.`), messages[0].text);
  });

  it('tests that could not run are an error when the run required them', async () => {
    const line = 'tests: not run — these packages could not be installed: nope';
    const messages = await finish({
      ...runResult('completed', []),
      tests: tests('not run', { line, reason: 'these packages could not be installed: nope' }),
      testsRequired: true,
    });

    assert.equal(messages.length, 1);
    assert.equal(messages[0].level, 'error');
    assert.ok(messages[0].text.includes(`; ${line}.`), messages[0].text);
    assert.match(messages[0].text, /sopls\.run\.requireTests asks for tests that run/);
  });

  it('a run that required tests and ran none is an error too', async () => {
    const messages = await finish({ ...runResult(), testsRequired: true });

    assert.equal(messages[0].level, 'error');
    assert.match(messages[0].text, /tests: not run — QA ran no tests/);
  });

  it('required tests that passed are good news', async () => {
    const messages = await finish({
      ...runResult('completed', []),
      tests: tests('passed', { line: 'tests: 2 passed' }),
      testsRequired: true,
    });

    assert.equal(messages[0].level, 'information');
  });

  it('a run without tests ends as before', async () => {
    const messages = await finish(runResult('completed', []));

    assert.deepEqual(messages, [
      { level: 'information', text: `sopls: run ${RUN_ID} finished with no changes ($0.0123).`, items: [] },
    ]);
  });

  it('sopls.run.requireTests is sent with the run when set', async () => {
    fake.settings.set('sopls.run.requireTests', true);
    await finish(runResult('completed', []));

    const [argument] = LanguageClient.current.arguments(ServerCommand.generateProject);
    assert.equal(argument.requireTests, true);
  });

  it("the status bar's tooltip shows a running run's last tests line from sopls/runEvent", async () => {
    const line = 'tests: 1 failed before → 1 failed after';
    let tooltip: unknown;
    serverAnswers({
      [ServerCommand.listRuns]: () => [runSummary('running')],
      [ServerCommand.generateProject]: async () => {
        const client = LanguageClient.current;
        const event = { runId: RUN_ID, role: 'QaEngineer', action: 'RunTests', cost: 0.02 };
        client.notify(RUN_EVENT, { ...event, status: 'failed', tests: tests('failed', { line }) });
        client.notify(RUN_EVENT, { ...event, status: 'started' });
        tooltip = fake.statusBarItems.find((item) => item.id === 'sopls.cost')?.tooltip;
        return runResult('completed', []);
      },
    });
    fake.answerInput('a word-frequency CLI');
    fake.answerQuickPick('Start');

    await run(Command.generateProject);

    assert.equal(tooltip, `a word-frequency CLI: $0.02 · ${line}`);
  });
});
