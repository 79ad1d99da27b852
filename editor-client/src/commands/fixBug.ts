import * as vscode from 'vscode';
import { headline } from '../format';
import { FixBugArguments, ServerCommand } from '../protocol';
import { Services } from '../services';
import { runDefaults } from '../settings';
import { askText, workspaceFolder } from './input';
import { pickRunOptions } from './runOptions';
import { startRun } from './startRun';

const TITLE = 'sopls: Fix Bug';

export async function fixBug(services: Services): Promise<void> {
  const folder = workspaceFolder();
  const description = await askText(
    {
      title: TITLE,
      prompt: `What goes wrong in ${folder.name}?`,
      placeHolder: 'words with apostrophes are split in two',
    },
    'the bug description is empty: say what goes wrong.',
  );
  if (description === undefined) {
    return;
  }
  const testOutput = await pickTestOutput();
  if (testOutput === undefined) {
    return;
  }
  const choice = await pickRunOptions(TITLE, runDefaults('repository'));
  if (choice === undefined) {
    return;
  }
  const argument: FixBugArguments = {
    description,
    ...(testOutput ? { testOutput } : {}),
    ...choice.options,
    apply: 'none',
  };
  await startRun(services, `sopls: ${headline(description)}`, ServerCommand.fixBug, argument);
}

/**
 * Failing output for the Engineer: the editor's selection or the clipboard (where terminal
 * output lands after a copy). '' for none; undefined when the user escapes.
 */
async function pickTestOutput(): Promise<string | undefined> {
  const editor = vscode.window.activeTextEditor;
  const selection = editor && !editor.selection.isEmpty ? editor.document.getText(editor.selection) : '';
  const sources = [
    { label: '$(selection) Selected text', text: selection },
    { label: '$(clippy) Clipboard', text: await vscode.env.clipboard.readText() },
  ].filter((source) => source.text.trim());
  if (sources.length === 0) {
    return '';
  }
  const items = [
    ...sources.map((source) => ({
      label: source.label,
      description: `${source.text.trim().split('\n').length} lines`,
      detail: headline(source.text, 100),
      text: source.text,
    })),
    { label: '$(circle-slash) No failing output', text: '' },
  ];
  const picked = await vscode.window.showQuickPick(items, {
    title: TITLE,
    placeHolder: 'Failing test or terminal output for the Engineer (copy it from the terminal first)',
    ignoreFocusOut: true,
  });
  return picked?.text;
}
