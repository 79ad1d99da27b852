import * as vscode from 'vscode';
import { RedactingLog } from './log';
import { RunEvent, RunSummary, ServerCommand, TestsDocument } from './protocol';
import { SoplsServer } from './server';

export interface RunningRun {
  runId: string;
  requirement: string;
  usd: number;
  /** The line of its last test run, e.g. "tests: 1 failed before → 1 failed after". */
  tests?: string;
}

interface LiveRun {
  usd: number;
  tests?: string;
}

/**
 * The workspace's runs as `sopls.listRuns` last described them, with the cost of running runs
 * kept current from `sopls/runEvent`. The runs tree and the status bar show it.
 */
export class RunStore implements vscode.Disposable {
  private summaries: RunSummary[] = [];
  // Runs seen going through their events, with their latest cost and tests, until they end.
  private readonly live = new Map<string, LiveRun>();
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
    return [...this.live].map(([runId, live]) => ({
      runId,
      requirement: this.find(runId)?.requirement ?? runId,
      ...live,
    }));
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
    const previous = this.live.get(event.runId);
    const known = previous !== undefined || this.find(event.runId) !== undefined;
    const tests = event.tests ? testsLine(event.tests) : previous?.tests;
    this.live.set(event.runId, { usd: event.cost, ...(tests === undefined ? {} : { tests }) });
    this.changed.fire();
    if (!known) {
      // A new run: learn its requirement for the tree and the status bar's tooltip.
      this.refresh().catch((error) => this.log.warn('sopls.listRuns failed', error));
    }
  }
}

/** The line a tests document is shown as; older servers send none, so it is made from the verdict. */
export function testsLine(tests: TestsDocument): string {
  if (tests.line) {
    return tests.line;
  }
  return tests.reason ? `tests: not run — ${tests.reason}` : `tests: ${tests.verdict}`;
}
