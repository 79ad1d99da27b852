// A real VS Code (code-server) in headless Chromium with the packaged extension installed, a
// scripted OpenAI-compatible endpoint behind it, and the moves a user makes in the workbench.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Browser, chromium, Locator, Page } from 'playwright-core';
import { API_KEY, ScriptedEndpoint, soplsPython } from '../protocol/session';

const EDITOR_CLIENT = resolve(__dirname, '..', '..', '..');
const SETUP = join(EDITOR_CLIENT, 'test', 'e2e', 'setup-code-server.sh');
const OUTPUT = join(EDITOR_CLIENT, 'test', 'e2e', 'output');
const CHROMIUM = process.env.SOPLS_E2E_CHROMIUM ?? '/usr/bin/chromium';

/** Seconds to wait for code-server to serve and the workbench to show; the machine may be busy. */
const START_SECONDS = 120;
/** Seconds for one step of the UI to appear. */
export const STEP_SECONDS = 30;
/** Seconds for a run against the scripted endpoint to finish. */
export const RUN_SECONDS = 120;

/** The packaged extension, as `npm run package` writes it. */
function vsixPath(): string {
  const { version } = require(join(EDITOR_CLIENT, 'package.json')) as { version: string };
  const path = join(EDITOR_CLIENT, `sopls-${version}.vsix`);
  if (!existsSync(path)) {
    throw new Error(`no ${path}: "npm run package" builds it (and "npm run test:vscode" does so first)`);
  }
  return path;
}

/** code-server's entry point, installed (once per machine) by setup-code-server.sh. */
function codeServerEntry(): string {
  const cache = execFileSync('sh', [SETUP], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  return join(cache, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? done(address.port) : fail(new Error('no port'))));
    });
  });
}

/**
 * The environment of code-server and everything it starts: no machine LLM settings, a private
 * HOME, the endpoint's key as OPENAI_API_KEY unless `apiKey` is null, then `more`.
 */
function isolatedEnvironment(home: string, apiKey: string | null, more: Record<string, string>): NodeJS.ProcessEnv {
  const environment = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !name.startsWith('OPENAI_') && !name.startsWith('SOPLS_') && !name.startsWith('VSCODE_'),
    ),
  );
  return {
    ...environment,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_CACHE_HOME: join(home, '.cache'),
    ...(apiKey === null ? {} : { OPENAI_API_KEY: apiKey }),
    ...more,
  };
}

export async function until<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  seconds: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`waited ${seconds} s for ${what}`);
    }
    await new Promise((done) => setTimeout(done, 200));
  }
}

export interface WorkbenchOptions {
  /** The scripted endpoint's rules. */
  rules: object;
  /** Fills the workspace folder before VS Code opens it. */
  prepare?: (workspace: string) => void;
  /** More user settings. */
  settings?: Record<string, unknown>;
  /** The key in OPENAI_API_KEY (the test key when not given); null for none. */
  apiKey?: string | null;
  /** More environment variables for code-server and the language server. */
  environment?: Record<string, string>;
}

/** One flow's VS Code: its own workspace, user data, extensions, HOME, endpoint and browser. */
export class Workbench {
  private shots = 0;

  private constructor(
    readonly flow: string,
    readonly page: Page,
    readonly workspace: string,
    readonly output: string,
    readonly log: string,
    private readonly browser: Browser,
    private readonly codeServer: ChildProcess,
    private readonly endpoint: ScriptedEndpoint,
    private readonly folder: string,
    private readonly userData: string,
  ) {}

  static async open(flow: string, options: WorkbenchOptions): Promise<Workbench> {
    const output = join(OUTPUT, flow);
    rmSync(output, { recursive: true, force: true });
    mkdirSync(output, { recursive: true });
    const folder = mkdtempSync(join(tmpdir(), `sopls-e2e-${flow}-`));
    const [workspace, home, userData, extensions] = ['workspace', 'home', 'user-data', 'extensions'].map((name) => {
      const path = join(folder, name);
      mkdirSync(path);
      return path;
    });
    options.prepare?.(workspace);

    const python = await soplsPython();
    const endpoint = await ScriptedEndpoint.start(python, options.rules);
    const environment = isolatedEnvironment(
      home,
      options.apiKey === undefined ? API_KEY : options.apiKey,
      options.environment ?? {},
    );
    const entry = codeServerEntry();
    const config = join(folder, 'code-server.yaml');
    writeFileSync(config, 'auth: none\ncert: false\n');
    const common = ['--config', config, '--user-data-dir', userData, '--extensions-dir', extensions];
    execFileSync(process.execPath, [entry, ...common, '--install-extension', vsixPath()], {
      env: environment,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: START_SECONDS * 1000,
    });
    mkdirSync(join(userData, 'User'), { recursive: true });
    writeFileSync(
      join(userData, 'User', 'settings.json'),
      JSON.stringify(
        {
          'sopls.server.pythonPath': python,
          'sopls.llm.baseUrl': endpoint.baseUrl,
          'sopls.llm.model': 'gpt-4o-mini',
          'security.workspace.trust.enabled': false,
          'workbench.startupEditor': 'none',
          'workbench.tips.enabled': false,
          'workbench.enableExperiments': false,
          'workbench.welcomePage.walkthroughs.openOnInstall': false,
          'extensions.ignoreRecommendations': true,
          'extensions.autoCheckUpdates': false,
          'extensions.autoUpdate': false,
          'telemetry.telemetryLevel': 'off',
          'update.mode': 'none',
          'chat.commandCenter.enabled': false,
          'git.openRepositoryInParentFolders': 'never',
          ...options.settings,
        },
        null,
        2,
      ),
    );

    const port = await freePort();
    const log = join(output, 'code-server.log');
    const logStream = createWriteStream(log);
    const codeServer = spawn(
      process.execPath,
      [
        entry,
        ...common,
        '--auth',
        'none',
        '--bind-addr',
        `127.0.0.1:${port}`,
        '--disable-telemetry',
        '--disable-update-check',
        '--disable-workspace-trust',
        '--disable-getting-started-override',
        workspace,
      ],
      { env: environment, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    codeServer.stdout!.pipe(logStream);
    codeServer.stderr!.pipe(logStream);
    const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`;
    let browser: Browser | undefined;
    try {
      await until(
        async () => {
          if (codeServer.exitCode !== null) {
            throw new Error(`code-server exited with ${codeServer.exitCode}; its log: ${log}`);
          }
          const answer = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
          return answer?.ok ? true : undefined;
        },
        START_SECONDS,
        `code-server to serve on port ${port} (log: ${log})`,
      );
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
      });
      const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
      // As a user who lets the page read the clipboard (Fix Bug offers what was copied).
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: `http://127.0.0.1:${port}` });
      const page = await context.newPage();
      await page.goto(url, { timeout: START_SECONDS * 1000 });
      await page.locator('.monaco-workbench').waitFor({ timeout: START_SECONDS * 1000 });
      // The Explorer lists the folder once the workbench has restored.
      await page
        .getByRole('tree', { name: /Files Explorer/ })
        .first()
        .waitFor({ timeout: START_SECONDS * 1000 });
      return new Workbench(flow, page, workspace, output, log, browser, codeServer, endpoint, folder, userData);
    } catch (error) {
      await browser?.close();
      await stopGroup(codeServer);
      await endpoint.stop();
      throw error;
    }
  }

  /** Opens a workbench for `flow`, runs `body` in it as one step, and closes it. */
  static async run(
    flow: string,
    options: WorkbenchOptions,
    body: (workbench: Workbench) => Promise<void>,
  ): Promise<void> {
    const workbench = await Workbench.open(flow, options);
    try {
      await workbench.step(() => body(workbench));
    } finally {
      await workbench.close();
    }
  }

  /** Writes `output/<flow>/<n>-<name>.png`. */
  async screenshot(name: string): Promise<string> {
    this.shots += 1;
    const path = join(this.output, `${String(this.shots).padStart(2, '0')}-${name}.png`);
    await this.page.screenshot({ path });
    return path;
  }

  /** Runs `body`; on a failure, a screenshot and the logs are named in the error. */
  async step<T>(body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (error) {
      const shot = await this.screenshot('failure').catch((reason: Error) => `(no screenshot: ${reason.message})`);
      await this.showNotifications().catch(() => undefined);
      await this.screenshot('notifications').catch(() => undefined);
      const logs = join(this.output, 'vscode-logs');
      try {
        cpSync(join(this.userData, 'logs'), logs, { recursive: true });
      } catch {
        // VS Code wrote no logs yet; the code-server log is named below either way.
      }
      const message = error instanceof Error ? error.message : String(error);
      const failure = new Error(
        `${this.flow}: ${message}\n  screenshot: ${shot}\n  code-server log: ${this.log}\n  VS Code logs: ${logs}`,
      );
      failure.stack = `${failure.message}\n${error instanceof Error ? error.stack : ''}`;
      throw failure;
    }
  }

  async close(): Promise<void> {
    await this.browser.close().catch(() => undefined);
    await stopGroup(this.codeServer);
    await this.endpoint.stop();
    rmSync(this.folder, { recursive: true, force: true });
  }

  // The moves of a user.

  get quickInput(): Locator {
    return this.page.locator('.quick-input-widget');
  }

  /** The text box of the palette, a quick pick or an input box. */
  get quickInputBox(): Locator {
    return this.quickInput.locator('.quick-input-box input');
  }

  /**
   * Opens the command palette with F1 and runs the command titled `title`. The palette lists an
   * extension's commands once the extension host has read it, so it is opened again until then.
   */
  async runCommand(title: string): Promise<void> {
    const row = this.quickInput.getByRole('option', { name: title, exact: true });
    await until(
      async () => {
        if (!(await this.quickInputBox.isVisible())) {
          await this.page.keyboard.press('F1');
        }
        await this.quickInputBox.waitFor({ timeout: STEP_SECONDS * 1000 });
        await this.quickInputBox.fill(`>${title}`);
        const shown = await row
          .waitFor({ timeout: 3000 })
          .then(() => true)
          .catch(() => undefined);
        if (!shown) {
          await this.page.keyboard.press('Escape');
        }
        return shown;
      },
      STEP_SECONDS,
      `the command palette to offer "${title}"`,
    );
    await this.screenshot('palette');
    await row.click();
  }

  /** Waits for an input box titled `title`, types `text` and presses Enter. */
  async answerInput(title: string | RegExp, text: string): Promise<void> {
    await this.quickInput
      .getByText(title)
      .first()
      .waitFor({ timeout: STEP_SECONDS * 1000 });
    const input = this.quickInputBox;
    await input.fill(text);
    await input.press('Enter');
  }

  /** The quick pick's option whose accessible name matches `name`. */
  option(name: string | RegExp): Locator {
    return this.quickInput.getByRole('option', { name }).first();
  }

  /** Picks the option matching `name` in the open quick pick. */
  async pick(name: string | RegExp): Promise<void> {
    const row = this.option(name);
    await row.waitFor({ timeout: STEP_SECONDS * 1000 });
    await row.click();
  }

  /** The message whose text matches `text`: its toast, or its row in the notification center. */
  toast(text: string | RegExp): Locator {
    return this.page
      .locator('.notifications-toasts .notification-toast, .notifications-center .notification-list-item')
      .filter({ hasText: text })
      .first();
  }

  /**
   * Waits for the message matching `text`. VS Code hides an information's toast after some
   * seconds; where the toast is not on screen, the notification center is opened, as a user
   * does, and the message is looked for there (new messages go there while it is open).
   */
  async waitForToast(text: string | RegExp, seconds = STEP_SECONDS): Promise<Locator> {
    const message = this.toast(text);
    await until(
      async () => {
        if (await message.isVisible()) {
          return true;
        }
        await this.showNotifications();
        return undefined;
      },
      seconds,
      `a message matching ${text}`,
    );
    return message;
  }

  /** Clicks the button `name` of the message whose text matches `text`. */
  async clickToastButton(text: string | RegExp, name: string): Promise<void> {
    const message = await this.waitForToast(text, RUN_SECONDS);
    await message.getByRole('button', { name, exact: true }).click();
  }

  /** Opens the notification center from the status bar's bell, unless it is open. */
  async showNotifications(): Promise<void> {
    if (!(await this.page.locator('.notifications-center').isVisible())) {
      await this.page.locator('.statusbar-item[id*="notifications"]').first().click({ timeout: 5000 });
    }
  }

  /** The text of every visible editor line, for asserting what a diff shows. */
  async visibleEditorText(): Promise<string> {
    const lines = await this.page.locator('.editor-group-container .view-lines').allInnerTexts();
    return lines.join('\n').replace(/\u00a0/g, ' ');
  }
}

/** Stops code-server and its children (the extension host, the language server). */
async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
    return;
  }
  const exited = once(child, 'exit');
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      // Already gone.
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
