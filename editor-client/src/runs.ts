import * as vscode from 'vscode';
import { RedactingLog } from './log';
import { RunEvent, RunSummary, ServerCommand } from './protocol';
import { SoplsServer } from './server';

export interface RunningRun {
  runId: string;
  requirement: string;
  usd: number;
}

/**
 * The workspace's runs as `sopls.listRuns` last described them, with the cost of running runs
 * kept current from `sopls/runEvent`. The runs tree and the status bar show it.
 */
export class RunStore implements vscode.Disposable {
  private summaries: RunSummary[] = [];
  // Runs seen going through their events, with their latest cost, until they end.
  private readonly live = new Map<string, number>();
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly subscriptions: vscode.Disposable[];

  readonly onDidChange = this.changed.event;

  constructor(
    private readonly server: SoplsServer,
    private readonly log: RedactingLog,
  ) {
    this.subscriptions = [server.onRunEvent((event) => this.onEvent(event)), this.changed];
  }

  get runs(): readonly RunSummary[] {
    return this.summaries;
  }

  find(runId: string): RunSummary | undefined {
    return this.summaries.find((run) => run.runId === runId);
  }

  /**
   * The runs going in this window's server, as their events tell. A run whose server stopped
   * stays "running" in `sopls.listRuns`, so that alone is not enough.
   */
  running(): RunningRun[] {
    return [...this.live].map(([runId, usd]) => ({ runId, requirement: this.find(runId)?.requirement ?? runId, usd }));
  }

  async refresh(): Promise<void> {
    this.summaries = await this.server.execute<RunSummary[]>(ServerCommand.listRuns);
    for (const runId of this.live.keys()) {
      if (this.find(runId)?.status !== 'running') {
        this.live.delete(runId);
      }
    }
    this.changed.fire();
  }

  /** A run this window started has ended (its request answered). */
  finished(runId: string): Promise<void> {
    this.live.delete(runId);
    return this.refresh();
  }

  dispose(): void {
    this.subscriptions.forEach((subscription) => subscription.dispose());
  }

  private onEvent(event: RunEvent): void {
    const known = this.live.has(event.runId) || this.find(event.runId) !== undefined;
    this.live.set(event.runId, event.cost);
    this.changed.fire();
    if (!known) {
      // A new run: learn its requirement for the tree and the status bar's tooltip.
      this.refresh().catch((error) => this.log.warn('sopls.listRuns failed', error));
    }
  }
}
