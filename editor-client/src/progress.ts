import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import { SoplsServer } from './server';

/**
 * Runs one server request under a cancellable notification. The request carries a work-done
 * token of the extension's own, so the notification shows the server's stage and file messages
 * ("Engineer · src/game.py (2/5) · $0.0123"); cancelling it cancels the request, which the
 * language client sends as `$/cancelRequest` and the server turns into a cancelled run.
 */
export function withServerProgress<T>(
  server: SoplsServer,
  title: string,
  request: (token: vscode.CancellationToken, workDoneToken: string) => Promise<T>,
): Thenable<T> {
  const options = { location: vscode.ProgressLocation.Notification, title, cancellable: true };
  return vscode.window.withProgress(options, async (progress, cancellation) => {
    const workDoneToken = `sopls-${randomUUID()}`;
    let shown = 0;
    const subscription = await server.onProgress(workDoneToken, (value) => {
      if (value.kind !== 'report') {
        return; // the notification said "starting" already, and closes with the request
      }
      // VS Code adds up increments; the server reports where the run stands.
      const percentage = value.percentage ?? shown;
      progress.report({ message: value.message, increment: Math.max(0, percentage - shown) });
      shown = Math.max(shown, percentage);
    });
    // Said at once: the server's first report may take a moment (a repository is read first).
    progress.report({ message: 'starting', increment: 0 });
    try {
      return await request(cancellation, workDoneToken);
    } finally {
      subscription.dispose();
    }
  });
}
