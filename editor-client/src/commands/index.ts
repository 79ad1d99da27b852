import * as vscode from 'vscode';
import { ServerNotRunning, UserError } from '../errors';
import { RedactingLog } from '../log';
import { Services } from '../services';
import { setApiKey } from './apiKey';
import { fixBug } from './fixBug';
import { generateProject } from './generateProject';
import { Command, CommandId } from './ids';
import { RunArgument } from './pickRun';
import { requestFeature } from './requestFeature';
import { acceptAll, acceptFile, discard } from './review';
import { cancelRun, deleteRun, resumeRun, reviewRun, showDocuments, showRuns } from './runs';

type Handler = (services: Services, argument: RunArgument) => Promise<void>;

const HANDLERS: Record<CommandId, Handler> = {
  [Command.generateProject]: generateProject,
  [Command.requestFeature]: requestFeature,
  [Command.fixBug]: fixBug,
  [Command.reviewRun]: reviewRun,
  [Command.resumeRun]: resumeRun,
  [Command.cancelRun]: cancelRun,
  [Command.showDocuments]: showDocuments,
  [Command.deleteRun]: deleteRun,
  [Command.showRuns]: showRuns,
  [Command.setApiKey]: setApiKey,
  [Command.restartServer]: (services) => services.server.restart(),
  [Command.acceptAll]: acceptAll,
  [Command.acceptFile]: acceptFile,
  [Command.discard]: discard,
  [Command.refreshRuns]: (services) => services.runs.refresh(),
};

export function registerCommands(services: Services): vscode.Disposable[] {
  return Object.entries(HANDLERS).map(([id, handler]) =>
    vscode.commands.registerCommand(id, async (argument?: RunArgument) => {
      try {
        await handler(services, argument);
      } catch (error) {
        report(services.log, error);
      }
    }),
  );
}

/** Every command's failure ends here, as one message that says what to do. */
function report(log: RedactingLog, error: unknown): void {
  if (error instanceof vscode.CancellationError) {
    return;
  }
  if (error instanceof UserError || error instanceof ServerNotRunning) {
    void vscode.window.showErrorMessage(error.message);
    return;
  }
  log.error(error instanceof Error ? error : String(error));
  void vscode.window.showErrorMessage(`sopls: ${error instanceof Error ? error.message : String(error)}`);
}
