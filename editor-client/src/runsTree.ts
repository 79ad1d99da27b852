import * as vscode from 'vscode';
import { age, headline, statusLabel, usd } from './format';
import { RunStatus, RunSummary } from './protocol';
import { proposalUri, Review, ReviewFile } from './review';
import { RunStore } from './runs';

export const RUNS_VIEW = 'sopls.runs';

export type RunsNode = { kind: 'run'; run: RunSummary } | { kind: 'file'; run: RunSummary; file: ReviewFile };

const STATUS_ICONS: Record<RunStatus, string> = {
  running: 'sync~spin',
  completed: 'pass',
  cancelled: 'debug-stop',
  failed: 'error',
  budget_exceeded: 'warning',
  interrupted: 'debug-pause',
  unreadable: 'circle-slash',
  unwritten: 'warning',
};

/** "sopls Runs": each run with its status and cost, and under it the files it proposes. */
export class RunsTree implements vscode.TreeDataProvider<RunsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<RunsNode | undefined>();
  private readonly subscriptions: vscode.Disposable[];

  readonly onDidChangeTreeData = this.changed.event;

  constructor(
    private readonly runs: RunStore,
    private readonly review: Review,
  ) {
    const refresh = () => this.changed.fire(undefined);
    this.subscriptions = [runs.onDidChange(refresh), review.onDidChange(refresh), this.changed];
  }

  async getChildren(node?: RunsNode): Promise<RunsNode[]> {
    if (node === undefined) {
      return this.runs.runs.map((run) => ({ kind: 'run', run }));
    }
    if (node.kind === 'file') {
      return [];
    }
    const files = await this.review.files(node.run.runId);
    return files.map((file) => ({ kind: 'file', run: node.run, file }));
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    return node.kind === 'run' ? this.runItem(node.run) : this.fileItem(node.run, node.file);
  }

  dispose(): void {
    this.subscriptions.forEach((subscription) => subscription.dispose());
  }

  private runItem(run: RunSummary): vscode.TreeItem {
    const label = headline(run.requirement || run.error?.message || run.runId, 32);
    const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.Collapsed);
    const live = this.runs.running().find((running) => running.runId === run.runId);
    const status = live ? 'running' : run.status;
    item.id = run.runId;
    // The label is short so that the status, cost and age beside it stay visible.
    item.description = `${statusLabel(status)} · ${usd(live?.usd ?? run.cost.usd)} · ${age(run.created)}`;
    item.tooltip = [
      run.requirement,
      '',
      `run ${run.runId} · ${statusLabel(status)} · ${usd(run.cost.usd)} in ${run.cost.calls} calls`,
      `started ${localTime(run.created)} · last change ${localTime(run.updated)}`,
    ].join('\n');
    item.iconPath = new vscode.ThemeIcon(STATUS_ICONS[status]);
    item.contextValue = `run.${status}`;
    return item;
  }

  private fileItem(run: RunSummary, file: ReviewFile): vscode.TreeItem {
    const item = new vscode.TreeItem(file.path, vscode.TreeItemCollapsibleState.None);
    const accepted = this.review.isAccepted(run.runId, file.path);
    item.id = `${run.runId}/${file.path}`;
    item.resourceUri = file.target;
    item.description = accepted ? `${file.change} · accepted` : file.change;
    item.contextValue = accepted ? 'file.accepted' : `file.${run.status}`;
    item.command = {
      title: 'Show Change',
      command: 'vscode.diff',
      arguments: [
        file.original ?? proposalUri(run.runId, file.shown, 'before'),
        file.proposed ?? proposalUri(run.runId, file.shown, 'after'),
        `${file.path} (sopls run ${run.runId})`,
      ],
    };
    return item;
  }
}

function localTime(iso: string): string {
  const time = new Date(iso);
  return Number.isNaN(time.getTime()) ? iso : time.toLocaleString();
}
