import * as vscode from 'vscode';
import { UserError } from '../errors';

/** The folder runs work in: the server keeps them in its `.sopls/runs`. */
export function workspaceFolder(): vscode.WorkspaceFolder {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (folder === undefined) {
    throw new UserError(
      'sopls: open a folder first; sopls keeps its runs in the folder and proposes changes to its files.',
    );
  }
  return folder;
}

/** A line of text from the user; undefined when they escape, an error when it is blank. */
export async function askText(options: vscode.InputBoxOptions, whenEmpty: string): Promise<string | undefined> {
  const text = await vscode.window.showInputBox({
    ignoreFocusOut: true,
    ...options,
    validateInput: (value) => (value.trim() ? undefined : whenEmpty),
  });
  if (text === undefined) {
    return undefined;
  }
  if (!text.trim()) {
    throw new UserError(`sopls: ${whenEmpty}`);
  }
  return text.trim();
}

/** A budget in USD above `minimum`, or undefined when the user escapes. */
export async function askInvestment(prompt: string, value: number, minimum = 0): Promise<number | undefined> {
  const text = await vscode.window.showInputBox({
    title: 'sopls: Investment',
    prompt,
    value: String(value),
    ignoreFocusOut: true,
    validateInput: (input) =>
      parseInvestment(input, minimum) === undefined
        ? `A number of US dollars above ${minimum}, e.g. ${Math.max(3, Math.ceil(minimum * 2))}`
        : undefined,
  });
  return text === undefined ? undefined : parseInvestment(text, minimum);
}

function parseInvestment(text: string, minimum: number): number | undefined {
  const amount = Number(text.trim().replace(/^\$/, ''));
  return text.trim() !== '' && Number.isFinite(amount) && amount > minimum ? amount : undefined;
}
