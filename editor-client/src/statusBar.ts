import * as vscode from 'vscode';
import { Command } from './commands/ids';
import { usd } from './format';
import { RunStore } from './runs';

/** The money the running runs have spent so far, while any run is going. */
export class CostStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('sopls.cost', vscode.StatusBarAlignment.Left, 10);
  private readonly subscription: vscode.Disposable;

  constructor(private readonly runs: RunStore) {
    this.item.name = 'sopls run cost';
    this.item.command = Command.showRuns;
    this.subscription = runs.onDidChange(() => this.render());
    this.render();
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }

  private render(): void {
    const running = this.runs.running();
    if (running.length === 0) {
      this.item.hide();
      return;
    }
    const total = running.reduce((sum, run) => sum + run.usd, 0);
    this.item.text = `$(sync~spin) sopls ${usd(total)}`;
    this.item.tooltip = running
      .map((run) => `${run.requirement}: ${usd(run.usd)}${run.tests ? ` · ${run.tests}` : ''}`)
      .join('\n');
    this.item.show();
  }
}
