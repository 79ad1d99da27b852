// Generating a project end to end, as VS Code talks to sopls: progress, run events, log
// messages, and the proposal as a workspace edit; then the extension's review path.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { CreateFile, TextDocumentEdit, WorkspaceEdit } from 'vscode-languageserver-protocol';
import { DOCUMENTS, documentPath, documentsPage } from '../../src/documentsPage';
import { ApplyRunResult, DeleteRunResult, RunResult, RunSummary, ServerCommand, StoredRun } from '../../src/protocol';
import { API_KEY, companyRules, ProgressValue, ScriptedEndpoint, ServerSession, soplsPython } from './session';

const IDEA = 'a word-frequency CLI';

/** Each file's CreateFile followed by its TextDocumentEdit, by URI, with the text it inserts. */
function createdFiles(edit: WorkspaceEdit): Map<string, string> {
  const changes = edit.documentChanges ?? [];
  const created = new Map<string, string>();
  changes.forEach((change, index) => {
    if ('kind' in change && change.kind === 'create') {
      const next = changes[index + 1] as TextDocumentEdit | undefined;
      assert.equal(
        next?.textDocument.uri,
        (change as CreateFile).uri,
        'a CreateFile is followed by the edit of its text',
      );
      assert.equal(next.edits.length, 1);
      created.set(change.uri, (next.edits[0] as { newText: string }).newText);
    }
  });
  return created;
}

function assertProgressSequence(values: ProgressValue[] | undefined): void {
  assert.ok(values && values.length >= 3, 'begin, reports and end');
  const [begin, ...rest] = values;
  const end = rest.pop();
  assert.equal(begin.kind, 'begin');
  assert.equal(begin.kind === 'begin' && begin.cancellable, true);
  assert.equal(end?.kind, 'end');
  assert.ok(rest.length > 0 && rest.every((value) => value.kind === 'report'));
  const percentages = rest.map((value) => (value.kind === 'report' ? (value.percentage ?? 0) : 0));
  assert.deepEqual(
    percentages,
    [...percentages].sort((a, b) => a - b),
    'percentages never go back',
  );
}

describe('generating a project', () => {
  let endpoint: ScriptedEndpoint;
  let session: ServerSession;

  before(async () => {
    const python = await soplsPython();
    endpoint = await ScriptedEndpoint.start(python, companyRules());
    session = await ServerSession.start(python, {
      llm: { baseUrl: endpoint.baseUrl, apiKey: API_KEY, model: 'gpt-4o-mini', structuredOutput: 'auto' },
    });
  });

  after(async () => {
    await session?.stop();
    await endpoint?.stop();
  });

  test('the server advertises every command the extension sends', () => {
    const commands = session.initializeResult?.capabilities.executeCommandProvider?.commands ?? [];
    assert.deepEqual(
      Object.values(ServerCommand).filter((command) => !commands.includes(command)),
      [],
    );
  });

  test('a run reports progress and run events and proposes its files as an edit', async () => {
    const result = await session.execute<RunResult>(ServerCommand.generateProject, { idea: IDEA, codeReview: false });

    assert.equal(result.status, 'completed', session.stderr());
    const paths = result.files.map((file) => file.path);
    assert.deepEqual(paths.filter((path) => !path.startsWith('docs/')).sort(), ['main.py', 'wordfreq/counter.py']);
    assert.ok(paths.includes('docs/prd.json') && paths.includes('docs/prd.md'), 'the documents are proposed too');
    assert.ok(result.files.every((file) => file.change === 'create' && typeof file.after === 'string'));
    assert.equal(result.applied, true);
    assert.ok(result.cost.calls > 0);

    // The progress came on a token the server created, since the request carried none.
    assert.equal(session.createdTokens.length, 1);
    assertProgressSequence(session.progress.get(session.createdTokens[0]));
    const messages = session.progress
      .get(session.createdTokens[0])!
      .flatMap((value) => (value.kind === 'report' && value.message ? [value.message] : []));
    for (const role of ['ProductManager', 'Architect', 'ProjectManager', 'Engineer']) {
      assert.ok(
        messages.some((message) => message.startsWith(`${role} · `)),
        role,
      );
    }
    assert.ok(messages.some((message) => /^Engineer · wordfreq\/counter\.py \(\d\/\d\) · \$/.test(message)));

    assert.ok(session.runEvents.length > 0 && session.runEvents.every((event) => event.runId === result.runId));
    const costs = session.runEvents.map((event) => event.cost);
    assert.deepEqual(
      costs,
      [...costs].sort((a, b) => a - b),
    );

    const [edit] = session.edits;
    assert.equal(session.edits.length, 1);
    const created = createdFiles(edit.edit);
    assert.deepEqual(
      new Map(result.files.map((file) => [file.uri, file.after])),
      created,
      'a CreateFile and a TextDocumentEdit for each proposed file',
    );
    const annotations = Object.values(edit.edit.changeAnnotations ?? {});
    assert.ok(annotations.length > 0 && annotations.every((annotation) => annotation.needsConfirmation === true));

    assert.ok(session.logs.some((log) => log.message.startsWith('ProductManager/WritePRD: gpt-4o-mini')));
    const everything = JSON.stringify([result, session.logs, session.messages, session.edits, session.runEvents]);
    assert.ok(!everything.includes(API_KEY), 'the API key never comes back');
  });

  test("the extension's way: its own progress token, no edit, then review and apply one file", async () => {
    session.edits.length = 0;
    const created = session.createdTokens.length;
    const result = await session.execute<RunResult>(
      ServerCommand.generateProject,
      { idea: IDEA, codeReview: false, apply: 'none' },
      { workDoneToken: 'sopls-extension-1' },
    );

    assert.equal(result.status, 'completed');
    assert.equal(result.applied, false);
    assert.equal(session.edits.length, 0);
    assert.equal(session.createdTokens.length, created, 'no token created: the request carried one');
    assertProgressSequence(session.progress.get('sopls-extension-1'));

    const stored = await session.execute<StoredRun>(ServerCommand.getRun, { runId: result.runId });
    const { applied: _applied, ...run } = result;
    assert.deepEqual(stored, run, 'getRun answers what the run command did, but for applied');

    const runs = await session.execute<RunSummary[]>(ServerCommand.listRuns);
    const summary = runs.find((run) => run.runId === result.runId);
    assert.equal(summary?.status, 'completed');
    assert.equal(summary?.requirement, IDEA);
    assert.equal(summary?.cost.calls, result.cost.calls);

    const main = result.files.find((file) => file.path === 'main.py')!;
    const applied = await session.execute<ApplyRunResult>(ServerCommand.applyRun, {
      runId: result.runId,
      paths: ['main.py'],
    });
    assert.deepEqual(applied, { runId: result.runId, applied: true, paths: ['main.py'] });
    assert.equal(session.edits.length, 1);
    assert.deepEqual(createdFiles(session.edits[0].edit), new Map([[main.uri, main.after]]));
    const annotations = Object.values(session.edits[0].edit.changeAnnotations ?? {});
    assert.ok(
      annotations.every((annotation) => annotation.needsConfirmation === false),
      'accepted in the review already',
    );
  });

  test("a stored run's documents come with its files, their diagrams as figures, and deleteRun removes the run", async () => {
    const result = await session.execute<RunResult>(ServerCommand.generateProject, {
      idea: IDEA,
      codeReview: false,
      apply: 'none',
    });
    const stored = await session.execute<StoredRun>(ServerCommand.getRun, { runId: result.runId });
    const documents = DOCUMENTS.map(({ stem, title }) => ({
      stem,
      title,
      markdown: stored.files.find((file) => file.path === documentPath(stem))?.after ?? '',
    }));
    assert.ok(
      documents.every((document) => document.markdown),
      'the PRD, the design and the tasks are proposed',
    );

    const html = documentsPage({
      title: IDEA,
      documents,
      files: stored.files.map((file) => file.path),
      cspSource: 'vscode-resource:',
      script: 'vscode-resource:/dist/webview/documents.js',
      nonce: '0'.repeat(32),
    });
    const kinds = [...html.matchAll(/<figure class="diagram"><pre class="diagram-source">(\w+)/g)].map(
      ([, kind]) => kind,
    );
    assert.deepEqual(kinds, ['quadrantChart', 'classDiagram', 'sequenceDiagram']);
    assert.match(html, /data-path="wordfreq\/counter\.py"/, 'the tasks link to the proposed files');

    const deleted = await session.execute<DeleteRunResult>(ServerCommand.deleteRun, { runId: result.runId });
    assert.deepEqual(deleted, { runId: result.runId, deleted: true });
    const runs = await session.execute<RunSummary[]>(ServerCommand.listRuns);
    assert.ok(!runs.some((run) => run.runId === result.runId));
  });

  test('bad arguments get InvalidParams naming the field', async () => {
    await assert.rejects(
      session.execute(ServerCommand.generateProject, { idea: IDEA, investment: -1 }),
      (error: { code: number; message: string }) => {
        assert.equal(error.code, -32602);
        assert.match(error.message, /investment/);
        return true;
      },
    );
  });
});
