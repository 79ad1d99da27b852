// Activates the real extension against the fakes of `vscode` and the language client.
import { join } from 'node:path';
import type * as vscode from 'vscode';
import { activate, deactivate } from '../../src/extension';
import { FileChange, RunResult, RunSummary } from '../../src/protocol';
import { LanguageClient, SentRequest } from '../stubs/languageclient';
import { commands, fake, SecretStorage, Uri } from '../stubs/vscode';

export const FIXTURES = join(__dirname, '..', '..', '..', 'test', 'unit', 'fixtures');
/** Stands in for a Python with sopls installed (it only answers the version check). */
export const PYTHON = join(FIXTURES, 'python');
export const PYTHON_WITHOUT_SOPLS = join(FIXTURES, 'python-without-sopls');
export const WORKSPACE = '/home/user/project';
export const RUN_ID = '20260101-120000-a1b2c3';

export const EXTENSION = '/extensions/sopls';

interface Context {
  subscriptions: { dispose(): unknown }[];
  secrets: SecretStorage;
  extensionUri: Uri;
}

const activated: Context[] = [];

/** Fresh fakes before each test; the extension deactivated after it. */
export function useFakes(): void {
  beforeEach(() => {
    fake.reset();
    LanguageClient.reset();
    fake.workspaceFolders = [{ uri: Uri.file(WORKSPACE), name: 'project', index: 0 }];
    fake.settings.set('sopls.server.pythonPath', PYTHON);
  });
  afterEach(async () => {
    for (const context of activated.splice(0)) {
      context.subscriptions.forEach((subscription) => subscription.dispose());
    }
    await deactivate();
  });
}

export async function activateExtension(secrets = new SecretStorage()): Promise<Context> {
  const context: Context = { subscriptions: [], secrets, extensionUri: Uri.file(EXTENSION) };
  activated.push(context);
  await activate(context as unknown as vscode.ExtensionContext);
  return context;
}

/** Runs one of the extension's commands as the palette or a view would. */
export async function run(command: string, ...args: unknown[]): Promise<void> {
  await commands.executeCommand(command, ...args);
}

/** Scripts the server's answers, per command. */
export function serverAnswers(answers: Record<string, (argument: any, request: SentRequest) => unknown>): void {
  LanguageClient.responder = (command, argument, request) => {
    const answer = answers[command];
    if (answer === undefined) {
      throw new Error(`no answer scripted for ${command}`);
    }
    return answer(argument, request);
  };
}

export function fileUri(path: string): string {
  return Uri.file(`${WORKSPACE}/${path}`).toString();
}

/** A proposal with one file of each kind of change. */
export const FILES: FileChange[] = [
  {
    path: 'word_freq/main.py',
    uri: fileUri('word_freq/main.py'),
    change: 'create',
    before: null,
    after: 'print("hello")\n',
  },
  {
    path: 'wordfreq/counter.py',
    uri: fileUri('wordfreq/counter.py'),
    change: 'modify',
    before: 'old = 1\n',
    after: 'new = 2\n',
  },
  { path: 'obsolete.py', uri: fileUri('obsolete.py'), change: 'delete', before: 'gone = 3\n', after: null },
];

export function runResult(status: RunResult['status'] = 'completed', files: FileChange[] = FILES): RunResult {
  return {
    runId: RUN_ID,
    status,
    cost: { usd: 0.0123, promptTokens: 1000, completionTokens: 200, calls: 7 },
    files,
    documents: {},
    applied: false,
  };
}

export function runSummary(status: RunSummary['status'], runId = RUN_ID, usd = 0.0123): RunSummary {
  return {
    runId,
    status,
    requirement: 'a word-frequency CLI',
    projectName: 'word_freq',
    cost: { usd, calls: 7 },
    created: new Date(Date.now() - 5 * 60_000).toISOString(),
    updated: new Date(Date.now() - 4 * 60_000).toISOString(),
  };
}
