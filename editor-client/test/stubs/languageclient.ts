// A stand-in for `vscode-languageclient/node`: the protocol's constants and types are the real
// ones; the client records what the extension sends and answers as the test scripts.
export * from 'vscode-languageserver-protocol';

export enum RevealOutputChannelOn {
  Debug = 0,
  Info = 1,
  Warn = 2,
  Error = 3,
  Never = 4,
}

export interface SentRequest {
  method: string;
  params: { command: string; arguments: unknown[]; workDoneToken?: string };
  token: { isCancellationRequested: boolean; onCancellationRequested(listener: () => void): unknown } | undefined;
}

/** Answers one `workspace/executeCommand`, by command and its one argument. */
export type Responder = (command: string, argument: any, request: SentRequest, client: LanguageClient) => unknown;

type Handler = (value: any) => void;

export class LanguageClient {
  static instances: LanguageClient[] = [];
  static startError: Error | undefined;
  static responder: Responder = (command) => {
    throw new Error(`no answer scripted for ${command}`);
  };

  readonly requests: SentRequest[] = [];
  readonly notifications: { method: string; params: any }[] = [];
  private readonly handlers = new Map<string, Handler>();
  private readonly progressHandlers = new Map<string, Handler>();
  private running = false;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly serverOptions: { command: string; args: string[]; options: { cwd?: string } },
    readonly clientOptions: any,
  ) {
    LanguageClient.instances.push(this);
  }

  static reset(): void {
    LanguageClient.instances = [];
    LanguageClient.startError = undefined;
    LanguageClient.responder = (command) => {
      throw new Error(`no answer scripted for ${command}`);
    };
  }

  /** The client the extension made last. */
  static get current(): LanguageClient {
    const client = LanguageClient.instances.at(-1);
    if (client === undefined) {
      throw new Error('the extension made no language client');
    }
    return client;
  }

  async start(): Promise<void> {
    if (LanguageClient.startError) {
      throw LanguageClient.startError;
    }
    this.running = true;
  }

  async stop(): Promise<void> {
    this.running = false;
  }

  isRunning(): boolean {
    return this.running;
  }

  async sendRequest(
    type: { method: string },
    params: SentRequest['params'],
    token?: SentRequest['token'],
  ): Promise<unknown> {
    const request = { method: type.method, params, token };
    this.requests.push(request);
    return LanguageClient.responder(params.command, params.arguments[0], request, this);
  }

  async sendNotification(type: { method: string }, params: unknown): Promise<void> {
    this.notifications.push({ method: type.method, params });
  }

  onNotification(method: string, handler: Handler): { dispose(): void } {
    this.handlers.set(method, handler);
    return { dispose: () => this.handlers.delete(method) };
  }

  onProgress(_type: unknown, token: string, handler: Handler): { dispose(): void } {
    this.progressHandlers.set(token, handler);
    return { dispose: () => this.progressHandlers.delete(token) };
  }

  /** The server sends a notification. */
  notify(method: string, params: unknown): void {
    this.handlers.get(method)?.(params);
  }

  /** The server reports work-done progress on `token`. */
  progress(token: string, value: unknown): void {
    this.progressHandlers.get(token)?.(value);
  }

  /** The `workspace/executeCommand` requests of `command` sent so far. */
  sent(command: string): SentRequest[] {
    return this.requests.filter((request) => request.params.command === command);
  }

  /** The one argument of each `command` sent so far. */
  arguments(command: string): any[] {
    return this.sent(command).map((request) => request.params.arguments[0]);
  }
}
