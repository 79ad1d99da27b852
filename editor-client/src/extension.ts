import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { DocumentsView } from './documentsView';
import { RedactingLog } from './log';
import { onDidChangePython } from './python';
import { ProposalDocuments, PROPOSAL_SCHEME, Review } from './review';
import { RunStore } from './runs';
import { RUNS_VIEW, RunsTree } from './runsTree';
import { ApiKeyStore } from './secrets';
import { SoplsServer } from './server';
import { affectsLaunch, affectsServerSettings, SECTION } from './settings';
import { CostStatusBar } from './statusBar';

let server: SoplsServer | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const apiKeys = new ApiKeyStore(context.secrets);
  await apiKeys.load();
  const log = new RedactingLog(vscode.window.createOutputChannel('sopls', { log: true }), () =>
    apiKeys.current ? [apiKeys.current] : [],
  );
  server = new SoplsServer(log, apiKeys);
  const runs = new RunStore(server, log);
  const documents = new ProposalDocuments();
  const documentsView = new DocumentsView(server, documents, runs, context.extensionUri);
  const review = new Review(server, documents, runs, (runId) => documentsView.open(runId));
  const tree = new RunsTree(runs, review);
  const services = { server, runs, review, documentsView, apiKeys, log };

  context.subscriptions.push(
    log,
    apiKeys,
    server,
    runs,
    documents,
    review,
    documentsView,
    tree,
    vscode.workspace.registerTextDocumentContentProvider(PROPOSAL_SCHEME, documents),
    vscode.window.createTreeView(RUNS_VIEW, { treeDataProvider: tree, showCollapseAll: true }),
    new CostStatusBar(runs),
    ...registerCommands(services),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (affectsLaunch(event)) {
        services.server.relaunch();
      } else if (affectsServerSettings(event)) {
        services.server.pushSettings();
      }
    }),
    apiKeys.onDidChange(() => services.server.pushSettings()),
    server.onDidStart(() => runs.refresh().catch((error) => log.warn('sopls.listRuns failed', error))),
  );
  // Activating the Python extension can take a while, so activation does not wait for it. Its
  // interpreter is used only when sopls.server.pythonPath is empty.
  void onDidChangePython(() => {
    if (!vscode.workspace.getConfiguration(SECTION).get<string>('server.pythonPath')) {
      services.server.relaunch();
    }
  }).then((subscription) => context.subscriptions.push(subscription));
}

export function deactivate(): Promise<void> | undefined {
  return server?.stop();
}
