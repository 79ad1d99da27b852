import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { documentPath, DOCUMENTS, documentsPage, PageDocument } from './documentsPage';
import { UserError } from './errors';
import { headline } from './format';
import { FileChange, RunIdArguments, ServerCommand, StoredRun } from './protocol';
import { ProposalDocuments } from './review';
import { RunStore } from './runs';
import { SoplsServer } from './server';

const VIEW_TYPE = 'sopls.documents';

/** What the webview script sends when a file's link is clicked. */
interface OpenFileMessage {
  type: 'openFile';
  path: string;
}

/**
 * A run's PRD, design and tasks in a webview, one panel per run. The webview runs only the
 * extension's bundled script (mermaid included) and reads only the extension's `dist` folder.
 */
export class DocumentsView implements vscode.Disposable {
  // The open panels by run, with the run they show: its links open that run's files.
  private readonly panels = new Map<string, { panel: vscode.WebviewPanel; run: StoredRun }>();
  private readonly dist: vscode.Uri;

  constructor(
    private readonly server: SoplsServer,
    private readonly proposals: ProposalDocuments,
    private readonly runs: RunStore,
    extensionUri: vscode.Uri,
  ) {
    this.dist = vscode.Uri.joinPath(extensionUri, 'dist');
  }

  async open(runId: string): Promise<void> {
    await this.show(await this.server.execute<StoredRun>(ServerCommand.getRun, { runId } satisfies RunIdArguments));
  }

  async show(run: StoredRun): Promise<void> {
    const documents = await readDocuments(run);
    if (documents.length === 0) {
      throw new UserError(
        `sopls: run ${run.runId} has no documents. Only a new project or a feature request writes a PRD, a design and tasks.`,
      );
    }
    const requirement = this.runs.find(run.runId)?.requirement;
    const title = requirement ? `sopls documents: ${headline(requirement, 40)}` : `sopls documents: run ${run.runId}`;
    const panel = this.panels.get(run.runId)?.panel ?? this.createPanel(run.runId, title);
    this.panels.set(run.runId, { panel, run });
    panel.title = title;
    panel.webview.html = documentsPage({
      title,
      documents,
      files: run.files.filter((file) => file.after != null).map((file) => file.path),
      cspSource: panel.webview.cspSource,
      script: panel.webview.asWebviewUri(vscode.Uri.joinPath(this.dist, 'webview', 'documents.js')).toString(),
      nonce: randomBytes(16).toString('hex'),
    });
    panel.reveal();
  }

  /** Closes the run's panel, e.g. once the run is deleted. */
  close(runId: string): void {
    this.panels.get(runId)?.panel.dispose();
  }

  dispose(): void {
    [...this.panels.values()].forEach(({ panel }) => panel.dispose());
  }

  private createPanel(runId: string, title: string): vscode.WebviewPanel {
    const panel = vscode.window.createWebviewPanel(VIEW_TYPE, title, vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [this.dist],
    });
    const listening = panel.webview.onDidReceiveMessage((message: unknown) => {
      const shown = this.panels.get(runId);
      return shown === undefined ? undefined : this.onMessage(shown.run, message);
    });
    panel.onDidDispose(() => {
      listening.dispose();
      this.panels.delete(runId);
    });
    return panel;
  }

  private async onMessage(run: StoredRun, message: unknown): Promise<void> {
    if (!isOpenFile(message)) {
      return;
    }
    const file = run.files.find((candidate) => candidate.path === message.path && candidate.after != null);
    if (file === undefined) {
      return;
    }
    try {
      await vscode.window.showTextDocument(await this.fileUri(run.runId, file), {
        preview: true,
        viewColumn: vscode.ViewColumn.Beside,
      });
    } catch (error) {
      void vscode.window.showErrorMessage(
        `sopls: ${file.path} could not be opened (${error instanceof Error ? error.message : String(error)}). Open it from the runs view.`,
      );
    }
  }

  /** The file on disk once it holds the proposed text (the change was applied), else the proposal. */
  private async fileUri(runId: string, file: FileChange): Promise<vscode.Uri> {
    const target = vscode.Uri.parse(file.uri);
    const after = file.after ?? '';
    return (await readText(target)) === after ? target : this.proposals.proposed(runId, file.path, after);
  }
}

function isOpenFile(message: unknown): message is OpenFileMessage {
  const candidate = message as Partial<OpenFileMessage> | null;
  return candidate?.type === 'openFile' && typeof candidate.path === 'string';
}

/**
 * The run's documents: the proposed text, else the copy in the run's folder (a change to a
 * repository without sopls documents keeps them only there).
 */
async function readDocuments(run: StoredRun): Promise<PageDocument[]> {
  const workspace = vscode.workspace.workspaceFolders?.[0]?.uri;
  const documents = await Promise.all(
    DOCUMENTS.map(async ({ stem, title }) => {
      const proposed = run.files.find((file) => file.path === documentPath(stem))?.after;
      const kept = workspace && vscode.Uri.joinPath(workspace, '.sopls', 'runs', run.runId, documentPath(stem));
      const markdown = proposed || (kept && (await readText(kept)));
      return markdown ? { stem, title, markdown } : undefined;
    }),
  );
  return documents.filter((document) => document !== undefined);
}

async function readText(uri: vscode.Uri): Promise<string | undefined> {
  try {
    return new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
  } catch {
    return undefined;
  }
}
