// The sopls server's protocol, as the extension uses it: command names, their one object
// argument (camelCase keys) and what they answer.

export const ServerCommand = {
  generateProject: 'sopls.generateProject',
  requestFeature: 'sopls.requestFeature',
  fixBug: 'sopls.fixBug',
  resumeRun: 'sopls.resumeRun',
  applyRun: 'sopls.applyRun',
  listRuns: 'sopls.listRuns',
  getRun: 'sopls.getRun',
  cancelRun: 'sopls.cancelRun',
  deleteRun: 'sopls.deleteRun',
} as const;

export type ServerCommandName = (typeof ServerCommand)[keyof typeof ServerCommand];

/** What the server does with a finished run's files; the extension reviews them itself. */
export type ApplyMode = 'confirm' | 'auto' | 'none';

export interface RunOptions {
  investment?: number;
  codeReview?: boolean;
  runTests?: boolean;
  /** Tests that could not run make the run's end an error; unset: the server's `run.require_tests`. */
  requireTests?: boolean;
}

export interface GenerateProjectArguments extends RunOptions {
  idea: string;
  targetUri?: string;
  apply: ApplyMode;
}

export interface RequestFeatureArguments extends RunOptions {
  requirement: string;
  apply: ApplyMode;
}

export interface FixBugArguments extends RunOptions {
  description: string;
  testOutput?: string;
  apply: ApplyMode;
}

export interface ResumeRunArguments {
  runId: string;
  investment?: number;
  apply: ApplyMode;
}

export interface ApplyRunArguments {
  runId: string;
  paths?: string[];
}

export interface RunIdArguments {
  runId: string;
}

export type RunStatus =
  | 'running'
  | 'completed'
  | 'cancelled'
  | 'failed'
  | 'budget_exceeded'
  // listed runs only: no process runs it any more; its files cannot be read; its project was not written
  | 'interrupted'
  | 'unreadable'
  | 'unwritten';

export type ChangeKind = 'create' | 'modify' | 'delete';

export interface FileChange {
  path: string;
  uri: string;
  change: ChangeKind;
  before?: string | null;
  after?: string | null;
}

export interface RunCost {
  usd: number;
  promptTokens: number;
  completionTokens: number;
  calls: number;
}

export type TestVerdict = 'passed' | 'failed' | 'timed out' | 'not run';

/** One side of a test run: counts are null when the runner gives none. */
export interface TestSide {
  passed: number | null;
  failed: number | null;
  errors: number | null;
  exitCode: number | null;
  timedOut: boolean;
}

/** What QA's last test run showed; `before` is null for a new project. */
export interface TestsDocument {
  before: TestSide | null;
  after: TestSide;
  newlyFailing: string[];
  stillFailing: string[];
  fixed: string[];
  verdict: TestVerdict;
  /** Why no test ran, when the verdict is "not run". */
  reason?: string;
  /** The line the command line prints, e.g. "tests: 1 failed before → 1 passed after". */
  line?: string;
}

/** A run as `sopls.getRun` describes it: its status, cost and proposal. */
export interface StoredRun {
  runId: string;
  status: RunStatus;
  cost: RunCost;
  files: FileChange[];
  documents: Record<string, unknown>;
  /** `answer`: the saved raw answer of a model whose output could not be used. */
  error?: { role: string; action: string; message: string; answer?: string };
  tests?: TestsDocument;
  /** The run was asked for tests that run (`requireTests`). */
  testsRequired?: boolean;
}

/** The answer of a run command: the run, and whether the server applied its edit. */
export interface RunResult extends StoredRun {
  applied: boolean;
}

/** One entry of `sopls.listRuns`. */
export interface RunSummary {
  runId: string;
  status: RunStatus;
  requirement: string;
  projectName: string | null;
  cost: { usd: number; calls: number };
  created: string;
  updated: string;
  /** Why an `unreadable` run cannot be read. */
  error?: { message: string };
}

export interface ApplyRunResult {
  runId: string;
  applied: boolean;
  paths: string[];
  /** Why the edit (or part of it) was not applied. */
  reason?: string;
}

export interface CancelRunResult {
  runId: string;
  cancelled: boolean;
}

export interface DeleteRunResult {
  runId: string;
  deleted: boolean;
}

/** `sopls/runEvent`: a role started, finished or failed a step; `cost` is the run's USD so far. */
export const RUN_EVENT = 'sopls/runEvent';

export interface RunEvent {
  runId: string;
  role: string;
  action: string;
  status: 'started' | 'finished' | 'failed';
  path?: string;
  cost: number;
  /** On the events that end a test run. */
  tests?: TestsDocument;
}

/** The `sopls` section the server reads: the config file's keys, camelCase. */
export type StructuredOutput = 'auto' | 'json_schema' | 'json_object' | 'prompt';

export type Provider = 'auto' | 'endpoint' | 'local';

export interface LlmSettings {
  provider?: Provider;
  localModelPath?: string;
  model?: string;
  baseUrl?: string;
  apiKey?: string;
  structuredOutput?: StructuredOutput;
  maxConcurrency?: number;
}

export interface ServerSettings {
  llm: LlmSettings;
}
