import * as vscode from 'vscode';
import { LlmSettings, Provider, RunOptions, ServerSettings, StructuredOutput } from './protocol';

export const SECTION = 'sopls';

/** How to start the server. */
export interface LaunchSettings {
  pythonPath: string;
  args: string[];
}

/**
 * The run options a run starts with, before its options picker; `requireTests` only when the
 * user set it, so that the server's `run.require_tests` decides otherwise.
 */
export type RunDefaults = Required<Omit<RunOptions, 'requireTests'>> & Pick<RunOptions, 'requireTests'>;

/** A new project, or a change to the workspace's own repository. */
export type RunTarget = 'project' | 'repository';

function configuration(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration(SECTION);
}

export function launchSettings(folder: vscode.WorkspaceFolder | undefined): LaunchSettings {
  const config = configuration();
  const pythonPath = config.get<string>('server.pythonPath', '').trim();
  return {
    // The one variable people put in a Python path; VS Code does not expand it in settings.
    pythonPath: folder ? pythonPath.replace(/\$\{workspaceFolder\}/g, folder.uri.fsPath) : pythonPath,
    args: config.get<string[]>('server.args', []),
  };
}

export function runDefaults(target: RunTarget): RunDefaults {
  const config = configuration();
  const requireTests = userValue<boolean>(config, 'run.requireTests');
  return {
    investment: config.get<number>('run.investment', 3),
    codeReview: config.get<boolean>('run.codeReview', true),
    // A change to a repository is checked against its tests, as the server does by default.
    runTests: target === 'repository' || config.get<boolean>('run.runTests', false),
    ...(requireTests === undefined ? {} : { requireTests }),
  };
}

/**
 * The settings the server gets as `initializationOptions`, as the `sopls` section of
 * `workspace/configuration` and on change. Only what the user set here is sent, so that
 * `~/.sopls/config.yaml` still decides the rest.
 */
export function serverSettings(apiKey: string | undefined): ServerSettings {
  const config = configuration();
  const llm: LlmSettings = {
    provider: userValue<Provider>(config, 'llm.provider'),
    localModelPath: userValue<string>(config, 'llm.localModelPath')?.trim() || undefined,
    model: userValue<string>(config, 'llm.model')?.trim() || undefined,
    baseUrl: userValue<string>(config, 'llm.baseUrl')?.trim() || undefined,
    structuredOutput: userValue<StructuredOutput>(config, 'llm.structuredOutput'),
    maxConcurrency: userValue<number | null>(config, 'llm.maxConcurrency') ?? undefined,
    apiKey,
  };
  return { llm: withoutUndefined(llm) };
}

export function affectsLaunch(event: vscode.ConfigurationChangeEvent): boolean {
  return event.affectsConfiguration(`${SECTION}.server`);
}

export function affectsServerSettings(event: vscode.ConfigurationChangeEvent): boolean {
  return event.affectsConfiguration(`${SECTION}.llm`);
}

function userValue<T>(config: vscode.WorkspaceConfiguration, key: string): T | undefined {
  const values = config.inspect<T>(key);
  return values?.workspaceFolderValue ?? values?.workspaceValue ?? values?.globalValue;
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
