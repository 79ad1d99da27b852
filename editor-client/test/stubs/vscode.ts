// A small stand-in for the `vscode` module: what the extension calls, recorded, with the user's
// answers scripted by the test through `fake`.
import { posix } from 'node:path';

export class Disposable {
  constructor(private readonly onDispose: () => unknown) {}

  static from(...disposables: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => disposables.forEach((disposable) => disposable.dispose()));
  }

  dispose(): void {
    this.onDispose();
  }
}

type Listener<T> = (event: T) => unknown;

export class EventEmitter<T> {
  private readonly listeners = new Set<Listener<T>>();

  readonly event = (listener: Listener<T>): Disposable => {
    this.listeners.add(listener);
    return new Disposable(() => this.listeners.delete(listener));
  };

  fire(event: T): void {
    [...this.listeners].forEach((listener) => listener(event));
  }

  dispose(): void {
    this.listeners.clear();
  }
}

export class CancellationError extends Error {
  constructor() {
    super('Canceled');
    this.name = 'Canceled';
  }
}

export class CancellationTokenSource {
  private readonly cancelled = new EventEmitter<void>();
  readonly token = {
    isCancellationRequested: false,
    onCancellationRequested: this.cancelled.event,
  };

  cancel(): void {
    if (!this.token.isCancellationRequested) {
      this.token.isCancellationRequested = true;
      this.cancelled.fire();
    }
  }

  dispose(): void {
    this.cancelled.dispose();
  }
}

interface UriParts {
  scheme: string;
  authority?: string;
  path?: string;
  query?: string;
  fragment?: string;
}

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly authority: string,
    readonly path: string,
    readonly query: string,
    readonly fragment: string,
  ) {}

  static file(path: string): Uri {
    return new Uri('file', '', path, '', '');
  }

  static parse(value: string): Uri {
    const match = /^([a-zA-Z][\w+.-]*):(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/.exec(value);
    if (match === null) {
      throw new Error(`not a URI: ${value}`);
    }
    return new Uri(match[1], match[2] ?? '', decodeURIComponent(match[3]), match[4] ?? '', match[5] ?? '');
  }

  static from(parts: UriParts): Uri {
    return new Uri(parts.scheme, parts.authority ?? '', parts.path ?? '', parts.query ?? '', parts.fragment ?? '');
  }

  static joinPath(base: Uri, ...segments: string[]): Uri {
    return base.with({ path: posix.join(base.path, ...segments) });
  }

  get fsPath(): string {
    return this.path;
  }

  with(change: Partial<UriParts>): Uri {
    return Uri.from({ ...this.parts(), ...change });
  }

  toString(): string {
    const authority = this.authority || this.scheme === 'file' ? `//${this.authority}` : '';
    const query = this.query ? `?${this.query}` : '';
    const fragment = this.fragment ? `#${this.fragment}` : '';
    return `${this.scheme}:${authority}${encodeURI(this.path)}${query}${fragment}`;
  }

  toJSON(): UriParts {
    return this.parts();
  }

  private parts(): UriParts {
    return {
      scheme: this.scheme,
      authority: this.authority,
      path: this.path,
      query: this.query,
      fragment: this.fragment,
    };
  }
}

// Classes the language client extends when its module loads (the bundle test loads it).
export class CompletionItem {}
export class CodeAction {}
export class CodeLens {}
export class Diagnostic {}
export class DocumentLink {}
export class InlayHint {}
export class SymbolInformation {}
export class CallHierarchyItem {}
export class TypeHierarchyItem {}

export class ThemeIcon {
  constructor(readonly id: string) {}
}

export enum TreeItemCollapsibleState {
  None = 0,
  Collapsed = 1,
  Expanded = 2,
}

export class TreeItem {
  id?: string;
  description?: string;
  tooltip?: string;
  iconPath?: ThemeIcon;
  contextValue?: string;
  resourceUri?: Uri;
  command?: { title: string; command: string; arguments?: unknown[] };

  constructor(
    readonly label: string,
    readonly collapsibleState: TreeItemCollapsibleState = TreeItemCollapsibleState.None,
  ) {}
}

export enum StatusBarAlignment {
  Left = 1,
  Right = 2,
}

export enum ProgressLocation {
  SourceControl = 1,
  Window = 10,
  Notification = 15,
}

export enum LogLevel {
  Off = 0,
  Trace = 1,
  Debug = 2,
  Info = 3,
  Warning = 4,
  Error = 5,
}

export enum ViewColumn {
  Active = -1,
  Beside = -2,
  One = 1,
}

export enum ConfigurationTarget {
  Global = 1,
  Workspace = 2,
  WorkspaceFolder = 3,
}

// What the fake records, and the answers a test scripts for the user.

export interface Message {
  level: 'information' | 'warning' | 'error';
  text: string;
  items: string[];
  /** Only when the extension passed options, e.g. `{ modal: true }`. */
  options?: { modal?: boolean; detail?: string };
}

export interface ProgressRecord {
  options: { title?: string; cancellable?: boolean; location: ProgressLocation };
  reports: { message?: string; increment?: number }[];
  cancel(): void;
}

export class StatusBarItem {
  text = '';
  tooltip: string | undefined;
  name: string | undefined;
  command: string | undefined;
  visible = false;

  constructor(readonly id: string) {}

  show(): void {
    this.visible = true;
  }

  hide(): void {
    this.visible = false;
  }

  dispose(): void {
    this.visible = false;
  }
}

/** A webview panel: the HTML the extension set, and messages sent to it as its script would. */
export class WebviewPanel {
  private readonly listeners: ((message: unknown) => unknown)[] = [];
  private readonly disposed = new EventEmitter<void>();
  readonly onDidDispose = this.disposed.event;
  revealed = 0;
  isDisposed = false;

  readonly webview = {
    html: '',
    cspSource: 'https://*.vscode-cdn.net',
    asWebviewUri: (uri: Uri): Uri => Uri.parse(`https://file+.vscode-resource.vscode-cdn.net${uri.path}`),
    onDidReceiveMessage: (listener: (message: unknown) => unknown): Disposable => {
      this.listeners.push(listener);
      return new Disposable(() => this.listeners.splice(this.listeners.indexOf(listener), 1));
    },
  };

  constructor(
    readonly viewType: string,
    public title: string,
    readonly options: { enableScripts?: boolean; localResourceRoots?: Uri[] },
  ) {}

  /** Sends `message` as the webview's script would, and waits for the extension to handle it. */
  async receive(message: unknown): Promise<void> {
    await Promise.all(this.listeners.map((listener) => listener(message)));
  }

  reveal(): void {
    this.revealed += 1;
  }

  dispose(): void {
    if (!this.isDisposed) {
      this.isDisposed = true;
      this.disposed.fire();
    }
  }
}

export class LogChannel {
  readonly lines: string[] = [];
  logLevel = LogLevel.Info;
  readonly onDidChangeLogLevel = new EventEmitter<LogLevel>().event;

  constructor(readonly name: string) {}

  trace(message: string): void {
    this.lines.push(`trace ${message}`);
  }
  debug(message: string): void {
    this.lines.push(`debug ${message}`);
  }
  info(message: string): void {
    this.lines.push(`info ${message}`);
  }
  warn(message: string): void {
    this.lines.push(`warn ${message}`);
  }
  error(message: string): void {
    this.lines.push(`error ${message}`);
  }
  append(value: string): void {
    this.lines.push(value);
  }
  appendLine(value: string): void {
    this.lines.push(value);
  }
  replace(value: string): void {
    this.lines.splice(0, this.lines.length, value);
  }
  clear(): void {
    this.lines.length = 0;
  }
  shown = false;
  show(): void {
    this.shown = true;
  }
  hide(): void {}
  dispose(): void {}
}

export class SecretStorage {
  readonly values = new Map<string, string>();
  private readonly changed = new EventEmitter<{ key: string }>();
  readonly onDidChange = this.changed.event;

  async get(key: string): Promise<string | undefined> {
    return this.values.get(key);
  }

  async store(key: string, value: string): Promise<void> {
    this.values.set(key, value);
    this.changed.fire({ key });
  }

  async delete(key: string): Promise<void> {
    this.values.delete(key);
    this.changed.fire({ key });
  }
}

export interface WorkspaceFolder {
  uri: Uri;
  name: string;
  index: number;
}

export interface TextDocumentContentProvider {
  provideTextDocumentContent(uri: Uri): string;
}

export interface TreeDataProvider {
  getChildren(node?: unknown): Promise<unknown[]>;
  getTreeItem(node: unknown): TreeItem;
}

/** A rule answering the next matching message with one of its items. */
export interface MessageAnswer {
  when: RegExp;
  choose: string;
}

export type QuickPickAnswer = (items: { label: string }[]) => { label: string } | undefined;

function freshState() {
  return {
    /** User-set settings by full key, e.g. `sopls.llm.model`. */
    settings: new Map<string, unknown>(),
    configurationUpdates: [] as { key: string; value: unknown }[],
    workspaceFolders: undefined as WorkspaceFolder[] | undefined,
    commands: new Map<string, (...args: unknown[]) => unknown>(),
    /** Calls of commands the extension does not register (VS Code's own). */
    executed: [] as { command: string; args: unknown[] }[],
    messages: [] as Message[],
    messageAnswers: [] as MessageAnswer[],
    inputBoxes: [] as { title?: string; prompt?: string; password?: boolean }[],
    inputAnswers: [] as (string | undefined)[],
    quickPickAnswers: [] as QuickPickAnswer[],
    openDialogAnswers: [] as (Uri[] | undefined)[],
    progress: [] as ProgressRecord[],
    statusBarItems: [] as StatusBarItem[],
    outputChannels: [] as LogChannel[],
    treeProviders: new Map<string, TreeDataProvider>(),
    contentProviders: new Map<string, TextDocumentContentProvider>(),
    textDocuments: [] as { uri: Uri; isDirty: boolean; save(): Promise<boolean> }[],
    /** The open editor tabs (a multi-file diff opens one, labelled with its title and file count). */
    tabs: [] as { label: string }[],
    shownDocuments: [] as Uri[],
    webviewPanels: [] as WebviewPanel[],
    /** Files `workspace.fs` reads, by path. */
    files: new Map<string, string>(),
    activeTextEditor: undefined as unknown,
    clipboard: '',
    extensions: new Map<string, unknown>(),
    configurationChanged: new EventEmitter<{ affectsConfiguration(section: string): boolean }>(),
  };
}

export const fake = {
  ...freshState(),
  reset(): void {
    Object.assign(fake, freshState());
  },
  /** The answer to the next input box, quick pick or message, in the order they come. */
  answerInput(...answers: (string | undefined)[]): void {
    fake.inputAnswers.push(...answers);
  },
  answerQuickPick(...labels: (string | undefined)[]): void {
    fake.quickPickAnswers.push(
      ...labels.map(
        (label) => (items: { label: string }[]) =>
          label === undefined ? undefined : items.find((item) => item.label.includes(label)),
      ),
    );
  },
  answerMessage(when: RegExp, choose: string): void {
    fake.messageAnswers.push({ when, choose });
  },
  /** Fires a configuration change of the setting `key`. */
  changeSetting(key: string, value: unknown): void {
    fake.settings.set(key, value);
    fake.configurationChanged.fire({
      affectsConfiguration: (section: string) => key === section || key.startsWith(`${section}.`),
    });
  },
};

function showMessage(level: Message['level']) {
  return async (text: string, ...rest: (string | Message['options'])[]): Promise<string | undefined> => {
    const [first, ...others] = rest;
    const options = typeof first === 'object' ? first : undefined;
    const items = (options === undefined ? rest : others).filter((item) => typeof item === 'string');
    fake.messages.push({ level, text, items, ...(options === undefined ? {} : { options }) });
    const index = fake.messageAnswers.findIndex((answer) => answer.when.test(text));
    if (index < 0) {
      return undefined;
    }
    const [answer] = fake.messageAnswers.splice(index, 1);
    return answer.choose;
  };
}

export const window = {
  showInformationMessage: showMessage('information'),
  showWarningMessage: showMessage('warning'),
  showErrorMessage: showMessage('error'),
  tabGroups: {
    get all() {
      return [{ tabs: [...fake.tabs] }];
    },
    async close(tabs: { label: string }[]): Promise<boolean> {
      fake.tabs = fake.tabs.filter((tab) => !tabs.includes(tab));
      return true;
    },
  },
  async showTextDocument(uri: Uri, _options?: object): Promise<void> {
    fake.shownDocuments.push(uri);
  },
  async showInputBox(options: { title?: string; prompt?: string; password?: boolean }): Promise<string | undefined> {
    fake.inputBoxes.push(options);
    if (fake.inputAnswers.length === 0) {
      throw new Error(`no answer scripted for the input box "${options.title}: ${options.prompt}"`);
    }
    return fake.inputAnswers.shift();
  },
  async showQuickPick<T extends { label: string }>(
    items: T[] | Promise<T[]>,
    options?: { title?: string },
  ): Promise<T | undefined> {
    const answer = fake.quickPickAnswers.shift();
    if (answer === undefined) {
      throw new Error(`no answer scripted for the quick pick "${options?.title}"`);
    }
    return answer(await items) as T | undefined;
  },
  async showOpenDialog(): Promise<Uri[] | undefined> {
    return fake.openDialogAnswers.shift();
  },
  async withProgress<T>(
    options: ProgressRecord['options'],
    task: (progress: { report(value: object): void }, token: CancellationTokenSource['token']) => Promise<T>,
  ): Promise<T> {
    const source = new CancellationTokenSource();
    const record: ProgressRecord = { options, reports: [], cancel: () => source.cancel() };
    fake.progress.push(record);
    return task({ report: (value) => record.reports.push(value) }, source.token);
  },
  createOutputChannel(name: string): LogChannel {
    const channel = new LogChannel(name);
    fake.outputChannels.push(channel);
    return channel;
  },
  createStatusBarItem(id: string): StatusBarItem {
    const item = new StatusBarItem(id);
    fake.statusBarItems.push(item);
    return item;
  },
  createWebviewPanel(
    viewType: string,
    title: string,
    _column: ViewColumn,
    options: WebviewPanel['options'],
  ): WebviewPanel {
    const panel = new WebviewPanel(viewType, title, options);
    fake.webviewPanels.push(panel);
    return panel;
  },
  createTreeView(id: string, options: { treeDataProvider: TreeDataProvider }): Disposable {
    fake.treeProviders.set(id, options.treeDataProvider);
    return new Disposable(() => fake.treeProviders.delete(id));
  },
  get activeTextEditor(): unknown {
    return fake.activeTextEditor;
  },
};

export const workspace = {
  get workspaceFolders(): WorkspaceFolder[] | undefined {
    return fake.workspaceFolders;
  },
  /** As VS Code does for one folder: the path below the folder, else the whole path. */
  asRelativePath(target: Uri, includeWorkspaceFolder?: boolean): string {
    void includeWorkspaceFolder;
    for (const folder of fake.workspaceFolders ?? []) {
      const below = posix.relative(folder.uri.path, target.path);
      if (!below.startsWith('..') && !posix.isAbsolute(below)) {
        return below;
      }
    }
    return target.fsPath;
  },
  get textDocuments() {
    return fake.textDocuments;
  },
  get onDidChangeConfiguration() {
    return fake.configurationChanged.event;
  },
  getConfiguration(section: string) {
    const full = (key: string) => `${section}.${key}`;
    return {
      get<T>(key: string, defaultValue?: T): T | undefined {
        return fake.settings.has(full(key)) ? (fake.settings.get(full(key)) as T) : defaultValue;
      },
      inspect<T>(key: string): { key: string; globalValue?: T } {
        return { key: full(key), globalValue: fake.settings.get(full(key)) as T | undefined };
      },
      has(key: string): boolean {
        return fake.settings.has(full(key));
      },
      async update(key: string, value: unknown): Promise<void> {
        fake.configurationUpdates.push({ key: full(key), value });
      },
    };
  },
  fs: {
    async readFile(uri: Uri): Promise<Uint8Array> {
      const text = fake.files.get(uri.path);
      if (text === undefined) {
        throw new Error(`no file ${uri.path}`);
      }
      return new TextEncoder().encode(text);
    },
  },
  registerTextDocumentContentProvider(scheme: string, provider: TextDocumentContentProvider): Disposable {
    fake.contentProviders.set(scheme, provider);
    return new Disposable(() => fake.contentProviders.delete(scheme));
  },
};

export const commands = {
  registerCommand(command: string, handler: (...args: unknown[]) => unknown): Disposable {
    if (fake.commands.has(command)) {
      throw new Error(`command '${command}' already exists`);
    }
    fake.commands.set(command, handler);
    return new Disposable(() => fake.commands.delete(command));
  },
  async executeCommand(command: string, ...args: unknown[]): Promise<unknown> {
    const handler = fake.commands.get(command);
    if (handler !== undefined) {
      return handler(...args);
    }
    fake.executed.push({ command, args });
    if (command === 'vscode.changes') {
      // As VS Code labels the tab: the title and how many files it shows.
      fake.tabs.push({ label: `${String(args[0])} (${(args[1] as unknown[]).length} files)` });
    }
    return undefined;
  },
};

export const env = {
  clipboard: {
    async readText(): Promise<string> {
      return fake.clipboard;
    },
    async writeText(value: string): Promise<void> {
      fake.clipboard = value;
    },
  },
};

export const extensions = {
  getExtension(id: string): unknown {
    return fake.extensions.get(id);
  },
};
