import * as vscode from 'vscode';
import { UserError } from '../errors';
import { headline, statusLabel, usd } from '../format';
import { RunSummary } from '../protocol';
import { RunsNode } from '../runsTree';
import { Services } from '../services';

/** How run commands are called: from the palette (nothing), a runs tree node, or a run id. */
export type RunArgument = RunsNode | string | undefined;

/** The run the command was called on, or one the user picks among those `matches` accepts. */
export async function chooseRun(
  services: Services,
  argument: RunArgument,
  matches: (run: RunSummary) => boolean,
  prompt: { title: string; placeHolder: string; none: string },
): Promise<RunSummary | undefined> {
  if (typeof argument === 'object') {
    return argument.run;
  }
  await services.runs.refresh();
  if (typeof argument === 'string') {
    const run = services.runs.find(argument);
    if (run === undefined) {
      throw new UserError(`sopls: there is no run ${argument} in this workspace.`);
    }
    return run;
  }
  const candidates = services.runs.runs.filter(matches);
  if (candidates.length === 0) {
    void vscode.window.showInformationMessage(prompt.none);
    return undefined;
  }
  const items = candidates.map((run) => ({
    label: headline(run.requirement),
    description: `${statusLabel(run.status)} · ${usd(run.cost.usd)}`,
    detail: `run ${run.runId} · started ${run.created}`,
    run,
  }));
  const picked = await vscode.window.showQuickPick(items, { title: prompt.title, placeHolder: prompt.placeHolder });
  return picked?.run;
}
