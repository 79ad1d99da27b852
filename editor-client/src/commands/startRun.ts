import * as vscode from 'vscode';
import { LSPErrorCodes, ResponseError } from 'vscode-languageclient/node';
import { usd } from '../format';
import { withServerProgress } from '../progress';
import { RunResult, ServerCommandName } from '../protocol';
import { testsLine } from '../runs';
import { Services } from '../services';
import { Command } from './ids';

/** Starts (or resumes) a run under a progress notification and follows up on its result. */
export async function startRun(
  services: Services,
  title: string,
  command: ServerCommandName,
  argument: object,
): Promise<void> {
  let result: RunResult;
  try {
    // A failure is shown here, with its actions, rather than as the server's plain message.
    const asked = { ...argument, showFailure: false };
    result = await withServerProgress(services.server, title, (token, workDoneToken) =>
      services.server.execute<RunResult>(command, asked, { token, workDoneToken }),
    );
  } catch (error) {
    if (!isCancelled(error)) {
      throw error;
    }
    await services.runs.refresh();
    void vscode.window.showInformationMessage('sopls: the run was cancelled; "sopls: Resume Run" continues it.');
    return;
  }
  await services.runs.finished(result.runId);
  await followUp(services, result);
}

function isCancelled(error: unknown): boolean {
  return (
    error instanceof vscode.CancellationError ||
    (error instanceof ResponseError && error.code === LSPErrorCodes.RequestCancelled)
  );
}

async function followUp(services: Services, result: RunResult): Promise<void> {
  const spent = usd(result.cost.usd);
  switch (result.status) {
    case 'completed': {
      const tests = testsMessage(result);
      const changes = result.files.length === 0 ? ' with no changes' : '';
      const text = `sopls: run ${result.runId} finished${changes} (${spent})${tests ? `; ${tests.text}` : '.'}`;
      if (result.files.length === 0 || tests !== undefined) {
        void SHOW[tests?.level ?? 'information'](text);
      }
      if (result.files.length > 0) {
        await services.review.show(result);
      }
      return;
    }
    case 'budget_exceeded':
      await offerResume(
        result.runId,
        vscode.window.showWarningMessage(
          `sopls: run ${result.runId} has spent its budget (${spent}); what it finished is kept.`,
          'Resume Run',
        ),
      );
      return;
    case 'cancelled':
      await offerResume(
        result.runId,
        vscode.window.showInformationMessage(`sopls: run ${result.runId} was cancelled (${spent}).`, 'Resume Run'),
      );
      return;
    case 'failed':
      await offerFailureActions(services, result);
      return;
    case 'running':
      return;
  }
}

type Level = 'information' | 'warning' | 'error';

const SHOW: Record<Level, (text: string) => Thenable<string | undefined>> = {
  information: (text) => vscode.window.showInformationMessage(text),
  warning: (text) => vscode.window.showWarningMessage(text),
  error: (text) => vscode.window.showErrorMessage(text),
};

/**
 * What a finished run's tests showed: good news when they passed, a warning when they failed or
 * could not run, an error when the run required tests that run and none did.
 */
function testsMessage(result: RunResult): { level: Level; text: string } | undefined {
  const { tests, testsRequired } = result;
  if (tests === undefined && !testsRequired) {
    return undefined;
  }
  const line = tests ? testsLine(tests) : 'tests: not run — QA ran no tests';
  if (testsRequired && (tests === undefined || tests.verdict === 'not run')) {
    return {
      level: 'error',
      text: `${line}. sopls.run.requireTests asks for tests that run: make them runnable and run again.`,
    };
  }
  return { level: tests?.verdict === 'passed' ? 'information' : 'warning', text: `${line}.` };
}

/**
 * A failed run as one sentence (in which role and step, and why) with what can be done next:
 * resume it, read the log, or open the model's answer that could not be used.
 */
async function offerFailureActions(services: Services, result: RunResult): Promise<void> {
  const error = result.error;
  const where = [error?.role, error?.action].filter(Boolean).join('/');
  const reason = (error?.message ?? 'no reason was recorded').replace(/\.$/, '');
  const text = `sopls: run ${result.runId} failed${where ? ` in ${where}` : ''}: ${reason}.`;
  services.log.error(text);
  const actions = ['Resume Run', 'Show Log', ...(error?.answer ? ['Open Model Answer'] : [])];
  const choice = await vscode.window.showErrorMessage(text, ...actions);
  if (choice === 'Resume Run') {
    await vscode.commands.executeCommand(Command.resumeRun, result.runId);
  } else if (choice === 'Show Log') {
    services.log.show();
  } else if (choice === 'Open Model Answer' && error?.answer) {
    await vscode.window.showTextDocument(vscode.Uri.file(error.answer), { preview: true });
  }
}

async function offerResume(runId: string, choice: Thenable<string | undefined>): Promise<void> {
  if ((await choice) === 'Resume Run') {
    await vscode.commands.executeCommand(Command.resumeRun, runId);
  }
}
