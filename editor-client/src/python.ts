import * as vscode from 'vscode';

export interface Interpreter {
  path: string;
  /** Where the path came from, for the log and for messages. */
  source: 'sopls.server.pythonPath' | 'the Python extension' | 'the default';
}

const PYTHON_EXTENSION = 'ms-python.python';
const DEFAULT_PYTHON = 'python3';

/** The part of the Python extension's API used here (its `environments` API). */
interface PythonExtensionApi {
  environments: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { path: string };
    resolveEnvironment(environment: { path: string }): Promise<{ executable: { uri?: vscode.Uri } } | undefined>;
    onDidChangeActiveEnvironmentPath: vscode.Event<unknown>;
  };
}

async function pythonExtension(): Promise<PythonExtensionApi | undefined> {
  const extension = vscode.extensions.getExtension<PythonExtensionApi>(PYTHON_EXTENSION);
  if (extension === undefined) {
    return undefined;
  }
  try {
    return extension.isActive ? extension.exports : await extension.activate();
  } catch {
    // A Python extension that fails to activate is treated as absent: sopls falls back to python3.
    return undefined;
  }
}

/** `sopls.server.pythonPath`; else the Python extension's interpreter; else `python3`. */
export async function findPython(configured: string, resource?: vscode.Uri): Promise<Interpreter> {
  if (configured) {
    return { path: configured, source: 'sopls.server.pythonPath' };
  }
  const api = await pythonExtension();
  if (api !== undefined) {
    const environments = api.environments;
    const active = await environments.resolveEnvironment(environments.getActiveEnvironmentPath(resource));
    const executable = active?.executable.uri?.fsPath;
    if (executable) {
      return { path: executable, source: 'the Python extension' };
    }
  }
  return { path: DEFAULT_PYTHON, source: 'the default' };
}

/** Calls `listener` when the Python extension's interpreter changes (if it is installed). */
export async function onDidChangePython(listener: () => void): Promise<vscode.Disposable> {
  const api = await pythonExtension();
  return api?.environments.onDidChangeActiveEnvironmentPath(listener) ?? new vscode.Disposable(() => undefined);
}
