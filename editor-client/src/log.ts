import * as vscode from 'vscode';

const MASK = '••••••••';

/**
 * The "sopls" output channel. The language client writes the server's log messages, its stderr
 * and (at trace level) whole protocol messages here; those include the settings that carry the
 * API key, so every line passes through `redact` first.
 */
export class RedactingLog implements vscode.LogOutputChannel {
  constructor(
    private readonly channel: vscode.LogOutputChannel,
    private readonly secrets: () => readonly string[],
  ) {}

  get name(): string {
    return this.channel.name;
  }

  get logLevel(): vscode.LogLevel {
    return this.channel.logLevel;
  }

  get onDidChangeLogLevel(): vscode.Event<vscode.LogLevel> {
    return this.channel.onDidChangeLogLevel;
  }

  redact(text: string): string {
    return this.secrets()
      .filter((secret) => secret.length > 0)
      .reduce((result, secret) => result.split(secret).join(MASK), text);
  }

  trace(message: string, ...args: unknown[]): void {
    this.channel.trace(this.line(message, args));
  }

  debug(message: string, ...args: unknown[]): void {
    this.channel.debug(this.line(message, args));
  }

  info(message: string, ...args: unknown[]): void {
    this.channel.info(this.line(message, args));
  }

  warn(message: string, ...args: unknown[]): void {
    this.channel.warn(this.line(message, args));
  }

  error(error: string | Error, ...args: unknown[]): void {
    this.channel.error(this.line(error, args));
  }

  append(value: string): void {
    this.channel.append(this.redact(value));
  }

  appendLine(value: string): void {
    this.channel.appendLine(this.redact(value));
  }

  replace(value: string): void {
    this.channel.replace(this.redact(value));
  }

  clear(): void {
    this.channel.clear();
  }

  show(preserveFocus?: boolean): void;
  show(column?: vscode.ViewColumn, preserveFocus?: boolean): void;
  show(first?: boolean | vscode.ViewColumn, preserveFocus?: boolean): void {
    this.channel.show(typeof first === 'boolean' ? first : preserveFocus);
  }

  hide(): void {
    this.channel.hide();
  }

  dispose(): void {
    this.channel.dispose();
  }

  private line(message: unknown, args: readonly unknown[]): string {
    return this.redact([message, ...args].map(text).join(' '));
  }
}

function text(value: unknown): string {
  if (typeof value === 'string') {
    return value;
  }
  if (value instanceof Error) {
    return value.stack ?? value.message;
  }
  return JSON.stringify(value) ?? String(value);
}
