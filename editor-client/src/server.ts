import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  ExecuteCommandParams,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ResponseError,
  RevealOutputChannelOn,
  ServerOptions,
  WorkDoneProgress,
  WorkDoneProgressBegin,
  WorkDoneProgressEnd,
  WorkDoneProgressReport,
} from 'vscode-languageclient/node';
import { ServerNotRunning } from './errors';
import { RedactingLog } from './log';
import { RUN_EVENT, RunEvent, ServerCommandName, ServerSettings } from './protocol';
import { checkSopls, installCommand, serverArguments } from './launch';
import { findPython, Interpreter } from './python';
import { ApiKeyStore } from './secrets';
import { launchSettings, SECTION, serverSettings } from './settings';

export type ProgressValue = WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd;

export interface RequestOptions {
  token?: vscode.CancellationToken;
  workDoneToken?: string;
}

/**
 * The `sopls serve` process and the language client talking to it. It starts on first use,
 * restarts when its Python or arguments change, and says why when it cannot start.
 */
export class SoplsServer implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<void> | undefined;
  private problem = 'it has not started';
  private readonly runEvents = new vscode.EventEmitter<RunEvent>();
  private readonly started = new vscode.EventEmitter<void>();

  readonly onRunEvent = this.runEvents.event;
  readonly onDidStart = this.started.event;

  constructor(
    private readonly log: RedactingLog,
    private readonly apiKeys: ApiKeyStore,
  ) {}

  /** Stops the running server (if any) and starts a new one; bursts of restarts run in turn. */
  restart(): Promise<void> {
    const previous = this.starting ?? Promise.resolve();
    this.starting = previous.then(() => this.start());
    return this.starting;
  }

  /** Restarts a server that was asked to start; otherwise its first use starts it anew. */
  relaunch(): void {
    if (this.starting !== undefined) {
      void this.restart();
    }
  }

  /** The running client, starting the server on first use. */
  async ready(): Promise<LanguageClient> {
    await (this.starting ?? this.restart());
    if (this.client === undefined || !this.client.isRunning()) {
      throw new ServerNotRunning(this.client === undefined ? this.problem : 'it stopped (see the sopls output)');
    }
    return this.client;
  }

  /** `workspace/executeCommand` with the command's one object argument. */
  async execute<T>(command: ServerCommandName, argument?: object, options: RequestOptions = {}): Promise<T> {
    const client = await this.ready();
    const params: ExecuteCommandParams = {
      command,
      arguments: argument === undefined ? [] : [argument],
      workDoneToken: options.workDoneToken,
    };
    return (await client.sendRequest(ExecuteCommandRequest.type, params, options.token)) as T;
  }

  /** Work-done progress the server reports on a token the extension sent with a request. */
  async onProgress(token: string, handler: (value: ProgressValue) => void): Promise<vscode.Disposable> {
    const client = await this.ready();
    return client.onProgress(WorkDoneProgress.type, token, handler);
  }

  /** Sends the current settings (after a settings or API key change). */
  pushSettings(): void {
    if (this.client?.isRunning()) {
      void this.client.sendNotification(DidChangeConfigurationNotification.type, {
        settings: { [SECTION]: this.settings() },
      });
    }
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client?.isRunning()) {
      await client.stop();
    }
  }

  dispose(): void {
    void this.stop();
    this.runEvents.dispose();
    this.started.dispose();
  }

  private settings(): ServerSettings {
    return serverSettings(this.apiKeys.current);
  }

  private async start(): Promise<void> {
    await this.stop();
    const folder = vscode.workspace.workspaceFolders?.[0];
    const launch = launchSettings(folder);
    const python = await findPython(launch.pythonPath, folder?.uri);
    const check = await checkSopls(python.path);
    if ('problem' in check) {
      this.cannotStart(python, check.problem);
      return;
    }
    this.log.info(`Starting sopls ${check.version} with ${python.path} (from ${python.source})`);
    const client = new LanguageClient(
      'sopls',
      'sopls',
      this.serverOptions(python, launch.args, folder),
      this.clientOptions(),
    );
    try {
      await client.start();
    } catch (error) {
      this.cannotStart(python, error instanceof Error ? error.message : String(error));
      return;
    }
    client.onNotification(RUN_EVENT, (event: RunEvent) => this.runEvents.fire(event));
    this.client = client;
    this.started.fire();
  }

  private serverOptions(python: Interpreter, args: readonly string[], folder?: vscode.WorkspaceFolder): ServerOptions {
    return {
      command: python.path,
      args: serverArguments(args),
      options: { cwd: folder?.uri.fsPath },
    };
  }

  private clientOptions(): LanguageClientOptions {
    return {
      // Every file the user opens or edits, so the server's repository index stays current.
      documentSelector: [{ scheme: 'file' }],
      outputChannel: this.log,
      traceOutputChannel: this.log,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationOptions: this.settings(),
      middleware: {
        workspace: {
          // VS Code would answer with the raw `sopls` section, which also holds the extension's
          // own settings (Python path, run options) that the server does not know.
          configuration: async (params, token, next) => {
            const answers = await next(params, token);
            if (answers instanceof ResponseError) {
              return answers;
            }
            return params.items.map((item, index) => (item.section === SECTION ? this.settings() : answers[index]));
          },
        },
      },
    };
  }

  private cannotStart(python: Interpreter, reason: string): void {
    this.problem = reason;
    const install = installCommand(python.path);
    const message = `sopls could not start with ${python.path} (from ${python.source}): ${reason}. Install it with: ${install}`;
    this.log.error(message);
    void vscode.window
      .showErrorMessage(message, 'Copy Install Command', 'Open Settings', 'Show Log')
      .then(async (choice) => {
        if (choice === 'Copy Install Command') {
          await vscode.env.clipboard.writeText(install);
        } else if (choice === 'Open Settings') {
          await vscode.commands.executeCommand('workbench.action.openSettings', 'sopls.server');
        } else if (choice === 'Show Log') {
          this.log.show();
        }
      });
  }
}
