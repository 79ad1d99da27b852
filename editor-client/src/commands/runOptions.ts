import * as vscode from 'vscode';
import { usd } from '../format';
import { RunDefaults } from '../settings';
import { askInvestment } from './input';

export interface RunChoice {
  options: RunDefaults;
  /** The folder a new project goes into; by default a new folder in the workspace. */
  target?: vscode.Uri;
}

type Action = 'start' | 'investment' | 'codeReview' | 'runTests' | 'target';

interface OptionItem extends vscode.QuickPickItem {
  action: Action;
}

function onOff(value: boolean): string {
  return value ? 'on' : 'off';
}

/**
 * The options of a run, starting from the settings: Enter starts, choosing an option changes it
 * and shows the list again. `projectFolder` offers a target folder (for a new project).
 */
export async function pickRunOptions(
  title: string,
  defaults: RunDefaults,
  projectFolder?: vscode.Uri,
): Promise<RunChoice | undefined> {
  const choice: RunChoice = { options: { ...defaults } };
  for (;;) {
    const { investment, codeReview, runTests } = choice.options;
    const items: OptionItem[] = [
      {
        action: 'start',
        label: '$(play) Start',
        description: `${usd(investment)} budget, code review ${onOff(codeReview)}, tests ${onOff(runTests)}`,
      },
      {
        action: 'investment',
        label: 'Investment',
        description: usd(investment),
        detail: 'The budget; the run never spends more',
      },
      {
        action: 'codeReview',
        label: 'Code review',
        description: onOff(codeReview),
        detail: 'The Engineer reviews each file it writes',
      },
      {
        action: 'runTests',
        label: 'Run tests',
        description: onOff(runTests),
        detail: 'QA writes tests and runs them in a sandbox',
      },
    ];
    if (projectFolder !== undefined) {
      items.push({
        action: 'target',
        label: 'Target folder',
        description: choice.target?.fsPath ?? 'a new folder in the workspace, named after the project',
      });
    }
    const picked = await vscode.window.showQuickPick(items, {
      title,
      placeHolder: 'Start, or change an option',
      ignoreFocusOut: true,
    });
    switch (picked?.action) {
      case undefined:
        return undefined;
      case 'start':
        return choice;
      case 'investment':
        choice.options.investment =
          (await askInvestment('The budget of the run in US dollars', investment)) ?? investment;
        break;
      case 'codeReview':
        choice.options.codeReview = !codeReview;
        break;
      case 'runTests':
        choice.options.runTests = !runTests;
        break;
      case 'target':
        choice.target = (await pickFolder(choice.target ?? projectFolder)) ?? choice.target;
        break;
    }
  }
}

async function pickFolder(start: vscode.Uri | undefined): Promise<vscode.Uri | undefined> {
  const folders = await vscode.window.showOpenDialog({
    canSelectFiles: false,
    canSelectFolders: true,
    canSelectMany: false,
    defaultUri: start,
    openLabel: 'Generate Here',
    title: 'sopls: the folder for the new project',
  });
  return folders?.[0];
}
