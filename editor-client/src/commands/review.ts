import * as vscode from 'vscode';
import { UserError } from '../errors';
import { Services } from '../services';
import { RunArgument } from './pickRun';

/** The run to accept or discard: the one called on, else the one under review (or a pick). */
async function runUnderReview(services: Services, argument: RunArgument): Promise<string | undefined> {
  if (typeof argument === 'string') {
    return argument;
  }
  if (argument !== undefined) {
    return argument.run.runId;
  }
  const open = services.review.underReview();
  if (open.length === 0) {
    throw new UserError('sopls: no run is under review; "sopls: Review Run" opens one.');
  }
  if (open.length === 1) {
    return open[0].runId;
  }
  const picked = await vscode.window.showQuickPick(
    open.map((run) => ({ label: run.title, runId: run.runId })),
    { title: 'sopls: Review', placeHolder: 'The run under review' },
  );
  return picked?.runId;
}

export async function acceptAll(services: Services, argument: RunArgument): Promise<void> {
  const runId = await runUnderReview(services, argument);
  if (runId !== undefined) {
    await services.review.acceptAll(runId);
  }
}

export async function acceptFile(services: Services, argument: RunArgument): Promise<void> {
  if (typeof argument === 'object' && argument.kind === 'file') {
    await services.review.acceptFile(argument.run.runId, argument.file.path);
    return;
  }
  const runId = await runUnderReview(services, argument);
  if (runId !== undefined) {
    await services.review.acceptFile(runId);
  }
}

export async function discard(services: Services, argument: RunArgument): Promise<void> {
  const runId = await runUnderReview(services, argument);
  if (runId !== undefined) {
    services.review.discard(runId);
  }
}
