// How `sopls serve` is started. Nothing here needs VS Code, so the protocol tests start the
// server exactly as the extension does.
import { execFile } from 'node:child_process';

// Runs in the candidate interpreter before the server does, so that a missing package or an old
// Python gets a message that says so instead of a server that exits at once.
const CHECK = `
import sys
if sys.version_info < (3, 11):
    sys.exit("Python %d.%d is too old; sopls needs 3.11 or newer" % sys.version_info[:2])
from importlib.metadata import PackageNotFoundError, version
try:
    print(version("sopls"))
except PackageNotFoundError:
    sys.exit("sopls is not installed in this environment")
`;

export type Check = { version: string } | { problem: string };

export function checkSopls(python: string): Promise<Check> {
  return new Promise((resolve) => {
    execFile(python, ['-c', CHECK], { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error === null) {
        resolve({ version: stdout.trim() });
      } else if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        resolve({ problem: `there is no Python at "${python}"` });
      } else {
        const reason = stderr.trim().split('\n').pop() || error.message;
        resolve({ problem: reason });
      }
    });
  });
}

/** The command that installs the server into `python`'s environment. */
export function installCommand(python: string): string {
  const quoted = /\s/.test(python) ? `"${python}"` : python;
  return `${quoted} -m pip install sopls`;
}

/**
 * The server's command line. `-P` keeps the workspace folder (the server's working directory)
 * off `sys.path`, so a project's own `server` package cannot shadow sopls's.
 */
export function serverArguments(extra: readonly string[]): string[] {
  return ['-P', '-m', 'server', ...extra, 'serve'];
}
