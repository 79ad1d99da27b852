import * as vscode from 'vscode';

const API_KEY = 'sopls.llm.apiKey';

/**
 * The LLM endpoint's API key, kept in VS Code's SecretStorage (never in settings). It is read
 * once and cached, because the server's settings are built synchronously from it.
 */
export class ApiKeyStore implements vscode.Disposable {
  private key: string | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly subscription: vscode.Disposable;

  readonly onDidChange = this.changed.event;

  constructor(private readonly storage: vscode.SecretStorage) {
    // Another window may set or remove the key.
    this.subscription = storage.onDidChange(async (event) => {
      if (event.key === API_KEY) {
        this.update(await storage.get(API_KEY));
      }
    });
  }

  get current(): string | undefined {
    return this.key;
  }

  async load(): Promise<void> {
    this.key = (await this.storage.get(API_KEY)) || undefined;
  }

  /** Stores `key`, or removes the stored key when `key` is blank. */
  async set(key: string): Promise<void> {
    const trimmed = key.trim();
    if (trimmed) {
      await this.storage.store(API_KEY, trimmed);
    } else {
      await this.storage.delete(API_KEY);
    }
    this.update(trimmed);
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }

  private update(key: string | undefined): void {
    const next = key || undefined;
    if (next !== this.key) {
      this.key = next;
      this.changed.fire();
    }
  }
}
