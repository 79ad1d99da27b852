import * as vscode from 'vscode';
import { proposesDocuments } from './documentsPage';
import { UserError } from './errors';
import { headline, statusLabel } from './format';
import { ApplyRunArguments, ApplyRunResult, ChangeKind, RunIdArguments, ServerCommand, StoredRun } from './protocol';
import { RunStore } from './runs';
import { SoplsServer } from './server';

export const PROPOSAL_SCHEME = 'sopls-proposal';

type Side = 'before' | 'after';

/** One file of a run's proposal, with the documents that show its change. */
export interface ReviewFile {
  runId: string;
  path: string;
  change: ChangeKind;
  /** The workspace file the change is for. */
  target: vscode.Uri;
  /** The target as the workspace names it (`word_counter/counter.py`): the diff headers show it. */
  shown: string;
  /** The text the run started from; none for a new file. */
  original: vscode.Uri | undefined;
  /** The proposed text; none for a deleted file. */
  proposed: vscode.Uri | undefined;
}

export function proposalUri(runId: string, path: string, side: Side): vscode.Uri {
  const query = new URLSearchParams({ run: runId, side }).toString();
  return vscode.Uri.from({ scheme: PROPOSAL_SCHEME, path: `/${path}`, query });
}

/**
 * Read-only documents with a run's texts before and after, for the diff editors. The "before"
 * side is the text the run saw, not the file on disk: the server's edit is computed from it.
 */
export class ProposalDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly texts = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();

  readonly onDidChange = this.changed.event;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? '';
  }

  /** The run's files in review order: code first, then tests, then the documents. */
  hold(run: StoredRun): ReviewFile[] {
    const files = [...run.files].sort((a, b) => reviewRank(a.path) - reviewRank(b.path));
    return files.map((file) => {
      const target = vscode.Uri.parse(file.uri);
      const shown = vscode.workspace.asRelativePath(target, false);
      return {
        runId: run.runId,
        path: file.path,
        change: file.change,
        target,
        shown,
        original: file.change === 'create' ? undefined : this.put(run.runId, shown, 'before', file.before ?? ''),
        proposed: file.change === 'delete' ? undefined : this.put(run.runId, shown, 'after', file.after ?? ''),
      };
    });
  }

  /** The proposed text of one file, for a link that opens it outside a review. */
  proposed(runId: string, path: string, text: string): vscode.Uri {
    return this.put(runId, path, 'after', text);
  }

  dispose(): void {
    this.changed.dispose();
  }

  release(files: readonly ReviewFile[]): void {
    for (const file of files) {
      for (const uri of [file.original, file.proposed]) {
        if (uri !== undefined) {
          this.texts.delete(uri.toString());
        }
      }
    }
  }

  private put(runId: string, path: string, side: Side, text: string): vscode.Uri {
    const uri = proposalUri(runId, path, side);
    this.texts.set(uri.toString(), text);
    this.changed.fire(uri);
    return uri;
  }
}

/** 0 for code, 1 for a test, 2 for a document (under a `docs/` folder); the sort is stable. */
export function reviewRank(path: string): number {
  const parts = path.split('/');
  if (parts.slice(0, -1).includes('docs')) {
    return 2;
  }
  const name = parts[parts.length - 1];
  const isTest =
    parts.slice(0, -1).some((part) => part === 'tests' || part === 'test') ||
    /^test_.*\.py$|_test\.(py|go)$|\.(test|spec)\.[jt]sx?$/.test(name);
  return isTest ? 1 : 0;
}

/** The `vscode.changes` resource list: (file, original, proposed) per file. */
export function changesResources(
  files: readonly ReviewFile[],
): [vscode.Uri, vscode.Uri | undefined, vscode.Uri | undefined][] {
  return files.map((file) => [file.target, file.original, file.proposed]);
}

interface Session {
  runId: string;
  title: string;
  files: ReviewFile[];
  accepted: Set<string>;
  /** The run proposes sopls's documents, so the question offers to show them. */
  documents: boolean;
}

/**
 * Reviews of finished runs: a multi-file diff of the proposal, then Accept All, Accept File or
 * Discard. Runs are started with `apply: "none"`; what the user accepts is applied by
 * `sopls.applyRun` with exactly those paths, so the server builds the edit (minimal hunks,
 * checked against open documents) and nothing else is touched.
 */
export class Review implements vscode.Disposable {
  private readonly sessions = new Map<string, Session>();
  private readonly changed = new vscode.EventEmitter<void>();

  readonly onDidChange = this.changed.event;

  constructor(
    private readonly server: SoplsServer,
    private readonly documents: ProposalDocuments,
    private readonly runs: RunStore,
    private readonly showDocuments: (runId: string) => Promise<void>,
  ) {}

  /** Opens the diff of a run's proposal and asks what to do with it. */
  async show(run: StoredRun): Promise<void> {
    const session = this.start(run);
    await vscode.commands.executeCommand('vscode.changes', session.title, changesResources(session.files));
    await this.ask(session);
  }

  /** Reviews a stored run. */
  async open(runId: string): Promise<void> {
    await this.show(await this.completedRun(runId));
  }

  /** The files of any run, for the runs tree; held for their diffs. */
  async files(runId: string): Promise<ReviewFile[]> {
    const session = this.sessions.get(runId);
    if (session !== undefined) {
      return session.files;
    }
    const run = await this.server.execute<StoredRun>(ServerCommand.getRun, { runId } satisfies RunIdArguments);
    return this.documents.hold(run);
  }

  isAccepted(runId: string, path: string): boolean {
    return this.sessions.get(runId)?.accepted.has(path) ?? false;
  }

  /** The runs under review, newest first. */
  underReview(): { runId: string; title: string }[] {
    return [...this.sessions.values()].reverse().map(({ runId, title }) => ({ runId, title }));
  }

  async acceptAll(runId: string): Promise<void> {
    const session = await this.session(runId);
    await this.apply(
      session,
      pending(session).map((file) => file.path),
    );
  }

  /** Applies one file: `path`, or the one the user picks among those not yet applied. */
  async acceptFile(runId: string, path?: string): Promise<void> {
    const session = await this.session(runId);
    const chosen = path ?? (await pickFile(pending(session)))?.path;
    if (chosen !== undefined) {
      await this.apply(session, [chosen]);
    }
  }

  /** Forgets the proposal; nothing is applied. */
  discard(runId: string): void {
    const session = this.sessions.get(runId);
    if (session === undefined) {
      return;
    }
    this.close(session);
    void vscode.window.showInformationMessage(`sopls: discarded the proposal of run ${runId}; nothing was applied.`);
  }

  /** Ends the run's review without a word, e.g. once the run is deleted. */
  forget(runId: string): void {
    const session = this.sessions.get(runId);
    if (session !== undefined) {
      this.close(session);
    }
  }

  dispose(): void {
    this.changed.dispose();
  }

  private start(run: StoredRun): Session {
    const previous = this.sessions.get(run.runId);
    const requirement = this.runs.find(run.runId)?.requirement;
    const session: Session = {
      runId: run.runId,
      title: requirement ? `sopls run ${run.runId}: ${headline(requirement)}` : `sopls run ${run.runId}`,
      files: this.documents.hold(run),
      accepted: previous?.accepted ?? new Set(),
      documents: proposesDocuments(run.files),
    };
    this.sessions.set(run.runId, session);
    this.changedSessions();
    return session;
  }

  private async session(runId: string): Promise<Session> {
    return this.sessions.get(runId) ?? this.start(await this.completedRun(runId));
  }

  private async completedRun(runId: string): Promise<StoredRun> {
    const run = await this.server.execute<StoredRun>(ServerCommand.getRun, { runId } satisfies RunIdArguments);
    if (run.status !== 'completed') {
      throw new UserError(
        `sopls: run ${runId} is ${statusLabel(run.status)}; only a completed run can be reviewed. Resume it first.`,
      );
    }
    if (run.files.length === 0) {
      throw new UserError(`sopls: run ${runId} proposes no changes.`);
    }
    return run;
  }

  private async ask(session: Session): Promise<void> {
    while (this.sessions.get(session.runId) === session) {
      const left = pending(session);
      const choice = await vscode.window.showInformationMessage(
        `${session.title}: ${left.length} of ${session.files.length} files to review.`,
        'Accept All',
        'Accept File…',
        'Discard',
        ...(session.documents ? ['Show Documents'] : []),
      );
      if (choice === 'Accept All') {
        await this.acceptAll(session.runId);
      } else if (choice === 'Discard') {
        this.discard(session.runId);
      } else if (choice === 'Accept File…') {
        await this.acceptFile(session.runId);
      } else if (choice === 'Show Documents') {
        await this.showDocuments(session.runId);
      } else {
        // Dismissed: the review stays open for the palette and the runs tree.
        return;
      }
    }
  }

  private async apply(session: Session, paths: readonly string[]): Promise<void> {
    const chosen = paths.filter((path) => !session.accepted.has(path));
    if (chosen.length === 0) {
      return;
    }
    const argument: ApplyRunArguments = { runId: session.runId, paths: chosen };
    const answer = await this.server.execute<ApplyRunResult>(ServerCommand.applyRun, argument);
    if (!answer.applied) {
      const why = answer.reason ? `: ${answer.reason.replace(/\.$/, '')}` : '';
      void vscode.window.showWarningMessage(
        `sopls: the edit of run ${session.runId} was not applied${why}. Nothing was lost: the review stays open to try again or discard.`,
      );
      return;
    }
    chosen.forEach((path) => session.accepted.add(path));
    await save(session.files.filter((file) => chosen.includes(file.path)));
    if (pending(session).length === 0) {
      this.close(session);
      void vscode.window.showInformationMessage(
        `sopls: applied the proposal of run ${session.runId} (${session.accepted.size} files).`,
      );
    } else {
      this.changed.fire();
    }
  }

  private close(session: Session): void {
    this.sessions.delete(session.runId);
    this.documents.release(session.files);
    this.changedSessions();
    // The multi-file diff of a finished review would only show stale "added" marks. VS Code
    // labels its tab with the title and the number of files: "… (8 files)".
    const tabs = vscode.window.tabGroups.all
      .flatMap((group) => group.tabs)
      .filter((tab) => tab.label === session.title || tab.label.startsWith(`${session.title} (`));
    void vscode.window.tabGroups.close(tabs);
  }

  private changedSessions(): void {
    void vscode.commands.executeCommand('setContext', 'sopls.reviewing', this.sessions.size > 0);
    this.changed.fire();
  }
}

function pending(session: Session): ReviewFile[] {
  return session.files.filter((file) => !session.accepted.has(file.path));
}

async function pickFile(files: readonly ReviewFile[]): Promise<ReviewFile | undefined> {
  const items = files.map((file) => ({ label: file.path, description: file.change, file }));
  const picked = await vscode.window.showQuickPick(items, {
    title: 'sopls: Accept File',
    placeHolder: 'The file to apply',
  });
  return picked?.file;
}

/** A workspace edit leaves the files it changed unsaved; accepting a file means writing it. */
async function save(files: readonly ReviewFile[]): Promise<void> {
  const written = new Set(files.filter((file) => file.change !== 'delete').map((file) => file.target.toString()));
  const documents = vscode.workspace.textDocuments.filter((document) => written.has(document.uri.toString()));
  await Promise.all(documents.filter((document) => document.isDirty).map((document) => document.save()));
}
