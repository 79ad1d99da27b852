import * as vscode from 'vscode';
import { headline, usd } from '../format';
import { CancelRunResult, DeleteRunResult, ResumeRunArguments, RunIdArguments, ServerCommand } from '../protocol';
import { RUNS_VIEW } from '../runsTree';
import { Services } from '../services';
import { runDefaults } from '../settings';
import { askInvestment } from './input';
import { chooseRun, RunArgument } from './pickRun';
import { startRun } from './startRun';

export async function reviewRun(services: Services, argument: RunArgument): Promise<void> {
  const run = await chooseRun(services, argument, (r) => r.status === 'completed', {
    title: 'sopls: Review Run',
    placeHolder: 'The run whose proposal to review',
    none: 'sopls: no completed run to review.',
  });
  if (run !== undefined) {
    await services.review.open(run.runId);
  }
}

export async function resumeRun(services: Services, argument: RunArgument): Promise<void> {
  const run = await chooseRun(services, argument, (r) => r.status !== 'completed' && r.status !== 'unreadable', {
    title: 'sopls: Resume Run',
    placeHolder: 'The run to continue from its last finished step',
    none: 'sopls: no run to resume; every run is completed.',
  });
  if (run === undefined) {
    return;
  }
  const resume: ResumeRunArguments = { runId: run.runId, apply: 'none' };
  if (run.status === 'budget_exceeded') {
    // The investment is the run's whole budget, so it must be more than what is spent.
    const spent = run.cost.usd;
    const investment = await askInvestment(
      `Run ${run.runId} has spent ${usd(spent)}, all of its budget. Its new budget in US dollars:`,
      Math.max(runDefaults('project').investment, Math.ceil(spent * 2)),
      spent,
    );
    if (investment === undefined) {
      return;
    }
    resume.investment = investment;
  }
  await startRun(services, `sopls: ${headline(run.requirement)}`, ServerCommand.resumeRun, resume);
}

export async function cancelRun(services: Services, argument: RunArgument): Promise<void> {
  const run = await chooseRun(services, argument, (r) => r.status === 'running', {
    title: 'sopls: Cancel Run',
    placeHolder: 'The run to stop (it can be resumed later)',
    none: 'sopls: no run is going.',
  });
  if (run === undefined) {
    return;
  }
  const answer = await services.server.execute<CancelRunResult>(ServerCommand.cancelRun, {
    runId: run.runId,
  } satisfies RunIdArguments);
  if (!answer.cancelled) {
    void vscode.window.showInformationMessage(`sopls: run ${run.runId} is not going in this window's server.`);
  }
  await services.runs.refresh();
}

export async function showDocuments(services: Services, argument: RunArgument): Promise<void> {
  const run = await chooseRun(services, argument, (r) => r.status !== 'unreadable', {
    title: 'sopls: Show Documents',
    placeHolder: 'The run whose PRD, design and tasks to show',
    none: 'sopls: no run to show; "sopls: Generate Project from Idea" starts one.',
  });
  if (run !== undefined) {
    await services.documentsView.open(run.runId);
  }
}

export async function deleteRun(services: Services, argument: RunArgument): Promise<void> {
  const run = await chooseRun(services, argument, (r) => r.status !== 'running', {
    title: 'sopls: Delete Run',
    placeHolder: 'The run whose folder to remove',
    none: 'sopls: no run to delete; a running run must be cancelled first.',
  });
  if (run === undefined) {
    return;
  }
  const choice = await vscode.window.showWarningMessage(
    `Delete run ${run.runId}${run.requirement ? ` (${headline(run.requirement)})` : ''}?`,
    {
      modal: true,
      detail:
        "Its folder in .sopls/runs is removed: the record, the proposal, the documents and the saved calls. The project's files stay.",
    },
    'Delete',
  );
  if (choice !== 'Delete') {
    return;
  }
  await services.server.execute<DeleteRunResult>(ServerCommand.deleteRun, {
    runId: run.runId,
  } satisfies RunIdArguments);
  services.review.forget(run.runId);
  services.documentsView.close(run.runId);
  await services.runs.refresh();
  void vscode.window.showInformationMessage(`sopls: deleted run ${run.runId}.`);
}

export async function showRuns(services: Services): Promise<void> {
  await vscode.commands.executeCommand(`${RUNS_VIEW}.focus`);
  await services.runs.refresh();
}
