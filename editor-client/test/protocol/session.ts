// A real `sopls serve` subprocess and a real scripted OpenAI-compatible endpoint, driven over
// JSON-RPC with the capabilities VS Code's language client declares.
import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import {
  CancellationToken,
  createMessageConnection,
  MessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
} from 'vscode-jsonrpc/node';
import { ExecuteCommandRequest } from 'vscode-languageserver-protocol';
import type {
  ApplyWorkspaceEditParams,
  ClientCapabilities,
  ConfigurationParams,
  InitializeResult,
  LogMessageParams,
  ProgressToken,
  WorkDoneProgressBegin,
  WorkDoneProgressEnd,
  WorkDoneProgressReport,
  ShowMessageParams,
  WorkDoneProgressCreateParams,
} from 'vscode-languageserver-protocol';
import { checkSopls, serverArguments } from '../../src/launch';
import { RunEvent, ServerSettings } from '../../src/protocol';

const EDITOR_CLIENT = resolve(__dirname, '..', '..', '..');
const REPOSITORY = resolve(EDITOR_CLIENT, '..');
export const FIXTURES = join(EDITOR_CLIENT, 'test', 'protocol', 'fixtures');

/** A key the tests send and then look for where it must never appear. */
export const API_KEY = 'test-key-9c2e41';

/** The Python with sopls installed: `SOPLS_PYTHON`, else the repository's `.venv`. */
export async function soplsPython(): Promise<string> {
  const python = process.env.SOPLS_PYTHON ?? join(REPOSITORY, '.venv', 'bin', 'python');
  const source = process.env.SOPLS_PYTHON ? 'SOPLS_PYTHON' : 'the default of SOPLS_PYTHON';
  if (!existsSync(python)) {
    throw new Error(
      `SOPLS_PYTHON: no Python at ${python} (${source}). Set SOPLS_PYTHON to a Python with sopls installed, e.g. ${join(REPOSITORY, '.venv', 'bin', 'python')} after "make test".`,
    );
  }
  const check = await checkSopls(python);
  if ('problem' in check) {
    throw new Error(
      `SOPLS_PYTHON: ${python} cannot run sopls: ${check.problem}. Install it with: ${python} -m pip install -e ${REPOSITORY}`,
    );
  }
  return python;
}

/** An environment without the machine's LLM settings or config file. */
function isolatedEnvironment(home: string): NodeJS.ProcessEnv {
  const environment = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('OPENAI_') && !name.startsWith('SOPLS_')),
  );
  return { ...environment, HOME: home };
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** Collects what a process writes on stderr, to explain a failure. */
function collectStderr(child: ChildProcess): () => string {
  const chunks: string[] = [];
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => chunks.push(chunk));
  return () => chunks.join('').slice(-4000);
}

/** `python tests/scripted_endpoint --script rules.json`, serving until stopped. */
export class ScriptedEndpoint {
  private constructor(
    private readonly child: ChildProcess,
    private readonly folder: string,
    readonly baseUrl: string,
  ) {}

  /** Starts the endpoint on `rules` (a fixture's rules, maybe changed by the test). */
  static async start(python: string, rules: object): Promise<ScriptedEndpoint> {
    const folder = mkdtempSync(join(tmpdir(), 'sopls-endpoint-'));
    const script = join(folder, 'rules.json');
    writeFileSync(script, JSON.stringify(rules));
    const child = spawn(python, [join(REPOSITORY, 'tests', 'scripted_endpoint'), '--script', script, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stderr = collectStderr(child);
    const lines = createInterface({ input: child.stdout! });
    const [line] = (await Promise.race([once(lines, 'line'), once(child, 'exit').then(() => [undefined])])) as [
      string | undefined,
    ];
    lines.close();
    if (!line) {
      rmSync(folder, { recursive: true, force: true });
      throw new Error(`the scripted endpoint exited before printing its base URL:\n${stderr()}`);
    }
    return new ScriptedEndpoint(child, folder, line.trim());
  }

  async stop(): Promise<void> {
    await stopProcess(this.child);
    rmSync(this.folder, { recursive: true, force: true });
  }
}

export type ProgressValue = WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd;

/** Capabilities as VS Code's language client declares them, where sopls looks. */
export const VSCODE_CAPABILITIES: ClientCapabilities = {
  workspace: {
    applyEdit: true,
    workspaceEdit: {
      documentChanges: true,
      resourceOperations: ['create', 'rename', 'delete'],
      failureHandling: 'textOnlyTransactional',
      normalizesLineEndings: true,
      changeAnnotationSupport: { groupsOnLabel: true },
    },
    configuration: true,
    didChangeConfiguration: { dynamicRegistration: true },
    didChangeWatchedFiles: { dynamicRegistration: true, relativePatternSupport: true },
    executeCommand: { dynamicRegistration: true },
    workspaceFolders: true,
  },
  textDocument: {
    synchronization: { dynamicRegistration: true, willSave: true, willSaveWaitUntil: true, didSave: true },
  },
  window: {
    workDoneProgress: true,
    showMessage: { messageActionItem: { additionalPropertiesSupport: true } },
    showDocument: { support: true },
  },
  general: { positionEncodings: ['utf-16'] },
};

/** A `sopls serve` process in a temporary workspace folder, and what it sent back. */
export class ServerSession {
  readonly progress = new Map<ProgressToken, ProgressValue[]>();
  readonly createdTokens: (string | number)[] = [];
  readonly edits: ApplyWorkspaceEditParams[] = [];
  readonly runEvents: RunEvent[] = [];
  readonly logs: LogMessageParams[] = [];
  readonly messages: ShowMessageParams[] = [];
  initializeResult: InitializeResult | undefined;
  readonly stderr: () => string;

  private constructor(
    private readonly child: ChildProcess,
    readonly connection: MessageConnection,
    readonly workspace: string,
    private readonly folder: string,
    private readonly settings: ServerSettings,
  ) {
    this.stderr = collectStderr(child);
  }

  /** Starts the server as the extension does, in a fresh workspace, and initializes it. */
  static async start(python: string, settings: ServerSettings): Promise<ServerSession> {
    const folder = mkdtempSync(join(tmpdir(), 'sopls-protocol-'));
    const workspace = join(folder, 'workspace');
    const home = join(folder, 'home');
    mkdirSync(workspace);
    mkdirSync(home);
    return ServerSession.launch(python, settings, folder, workspace, home);
  }

  private static async launch(
    python: string,
    settings: ServerSettings,
    folder: string,
    workspace: string,
    home: string,
  ): Promise<ServerSession> {
    const child = spawn(python, serverArguments([]), {
      cwd: workspace,
      env: isolatedEnvironment(home),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const connection = createMessageConnection(
      new StreamMessageReader(child.stdout!),
      new StreamMessageWriter(child.stdin!),
    );
    const session = new ServerSession(child, connection, workspace, folder, settings);
    session.listen();
    connection.listen();
    session.initializeResult = await connection.sendRequest<InitializeResult>('initialize', {
      processId: process.pid,
      clientInfo: { name: 'Visual Studio Code', version: '1.91.0' },
      rootUri: session.workspaceUri,
      workspaceFolders: [{ uri: session.workspaceUri, name: 'workspace' }],
      capabilities: VSCODE_CAPABILITIES,
      initializationOptions: settings,
    });
    await connection.sendNotification('initialized', {});
    return session;
  }

  get workspaceUri(): string {
    return pathToFileURL(this.workspace).href;
  }

  /** `workspace/executeCommand` with one object argument, as the extension sends it. */
  execute<T>(
    command: string,
    argument?: object,
    options: { token?: CancellationToken; workDoneToken?: string } = {},
  ): Promise<T> {
    const params = {
      command,
      arguments: argument === undefined ? [] : [argument],
      workDoneToken: options.workDoneToken,
    };
    return this.connection.sendRequest(ExecuteCommandRequest.type, params, options.token) as Promise<T>;
  }

  async stop(): Promise<void> {
    // Disposing the connection rejects a shutdown the server does not answer.
    const patience = setTimeout(() => this.connection.dispose(), 5000);
    try {
      await this.connection.sendRequest('shutdown');
      await this.connection.sendNotification('exit');
    } catch {
      // The server is gone or stuck; the process is stopped below either way.
    } finally {
      clearTimeout(patience);
    }
    this.connection.dispose();
    await stopProcess(this.child);
    rmSync(this.folder, { recursive: true, force: true });
  }

  private listen(): void {
    const connection = this.connection;
    connection.onRequest('workspace/configuration', (params: ConfigurationParams) =>
      params.items.map((item) => (item.section === 'sopls' ? this.settings : null)),
    );
    connection.onRequest('window/workDoneProgress/create', (params: WorkDoneProgressCreateParams) => {
      this.createdTokens.push(params.token);
      return null;
    });
    connection.onRequest('workspace/applyEdit', (params: ApplyWorkspaceEditParams) => {
      this.edits.push(params);
      return { applied: true };
    });
    connection.onRequest('client/registerCapability', () => null);
    connection.onNotification('$/progress', (params: { token: ProgressToken; value: ProgressValue }) => {
      const values = this.progress.get(params.token) ?? [];
      values.push(params.value);
      this.progress.set(params.token, values);
    });
    connection.onNotification('sopls/runEvent', (event: RunEvent) => void this.runEvents.push(event));
    connection.onNotification('window/logMessage', (params: LogMessageParams) => void this.logs.push(params));
    connection.onNotification('window/showMessage', (params: ShowMessageParams) => void this.messages.push(params));
  }
}

/** The company fixture's rules, each reply slowed by `delay` seconds when given. */
export function companyRules(delay?: number): object {
  const fixture = JSON.parse(readFileSync(join(FIXTURES, 'company.json'), 'utf8')) as { rules: { reply: object }[] };
  return {
    rules: fixture.rules.map((rule) => ({
      ...rule,
      reply: delay === undefined ? rule.reply : { ...rule.reply, delay },
    })),
  };
}

/** Resolves once `condition` holds, checking every 20 ms; fails after `seconds`. */
export async function until(condition: () => boolean, seconds: number, what: string): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`waited ${seconds} s for ${what}`);
    }
    await new Promise((done) => setTimeout(done, 20));
  }
}
