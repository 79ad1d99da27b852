// `npm run package` makes a .vsix that holds the bundles (the extension and the documents webview's
// script, mermaid included), the manifest and the readme only, and the bundle runs without
// node_modules.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as yauzl from 'yauzl';
import { Command } from '../../src/commands/ids';
import { stubModules } from '../stubs/modules';

const EDITOR_CLIENT = resolve(__dirname, '..', '..', '..');

/** Every file in the zip at `path`, by name. */
function unzip(path: string): Promise<Map<string, Buffer>> {
  return new Promise((done, fail) => {
    yauzl.open(path, { lazyEntries: true }, (error, zip) => {
      if (error) {
        return fail(error);
      }
      const files = new Map<string, Buffer>();
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError) {
            return fail(streamError);
          }
          const chunks: Buffer[] = [];
          stream.on('data', (chunk: Buffer) => chunks.push(chunk));
          stream.on('end', () => {
            files.set(entry.fileName, Buffer.concat(chunks));
            zip.readEntry();
          });
        });
      });
      zip.on('end', () => done(files));
      zip.on('error', fail);
      zip.readEntry();
    });
  });
}

describe('the .vsix', () => {
  let folder: string;
  let files: Map<string, Buffer>;

  before(async () => {
    folder = mkdtempSync(join(tmpdir(), 'sopls-vsix-'));
    const vsix = join(folder, 'sopls.vsix');
    execFileSync('npm', ['run', '--silent', 'package', '--', '--out', vsix], {
      cwd: EDITOR_CLIENT,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    files = await unzip(vsix);
  });

  after(() => rmSync(folder, { recursive: true, force: true }));

  test('holds the bundles, the manifest and the readme, and no sources or node_modules', () => {
    const extensionFiles = [...files.keys()].filter((name) => name.startsWith('extension/')).sort();
    assert.deepEqual(extensionFiles, [
      'extension/dist/extension.js',
      'extension/dist/webview/documents.js',
      'extension/package.json',
      'extension/readme.md',
    ]);
  });

  test("the webview's bundle holds mermaid whole, so it imports nothing at run time", () => {
    const script = files.get('extension/dist/webview/documents.js')!.toString('utf8');
    assert.match(script, /quadrantChart/);
    assert.match(script, /classDiagram/);
    assert.match(script, /sequenceDiagram/);
    assert.match(script, /acquireVsCodeApi/);
    assert.doesNotMatch(script, /\bimport\(/, 'every diagram kind is in the bundle, none fetched later');
  });

  test('contributes every command of the extension under the sopls category', () => {
    const manifest = JSON.parse(files.get('extension/package.json')!.toString('utf8'));
    const contributed: { command: string; title: string; category: string }[] = manifest.contributes.commands;
    assert.deepEqual(contributed.map((command) => command.command).sort(), Object.values(Command).sort());
    assert.ok(contributed.every((command) => command.category === 'sopls'));
    const titles = new Map(contributed.map((command) => [command.command, command.title]));
    assert.deepEqual(
      [
        Command.generateProject,
        Command.requestFeature,
        Command.fixBug,
        Command.reviewRun,
        Command.resumeRun,
        Command.cancelRun,
        Command.showDocuments,
        Command.deleteRun,
        Command.showRuns,
        Command.setApiKey,
      ].map((id) => titles.get(id)),
      [
        'Generate Project from Idea',
        'Request Feature',
        'Fix Bug',
        'Review Run',
        'Resume Run',
        'Cancel Run',
        'Show Documents',
        'Delete Run',
        'Show Runs',
        'Set API Key',
      ],
    );
    assert.equal(manifest.main, './dist/extension.js');
    assert.equal(manifest.engines.vscode, '^1.91.0');
  });

  test('declares each setting the extension reads, with a description, and menus of its own commands', () => {
    const manifest = JSON.parse(files.get('extension/package.json')!.toString('utf8'));
    const properties: Record<string, { markdownDescription?: string }> = manifest.contributes.configuration.properties;
    assert.deepEqual(Object.keys(properties).sort(), [
      'sopls.llm.baseUrl',
      'sopls.llm.localModelPath',
      'sopls.llm.maxConcurrency',
      'sopls.llm.model',
      'sopls.llm.provider',
      'sopls.llm.structuredOutput',
      'sopls.run.codeReview',
      'sopls.run.investment',
      'sopls.run.requireTests',
      'sopls.run.runTests',
      'sopls.server.args',
      'sopls.server.pythonPath',
    ]);
    assert.ok(Object.values(properties).every((property) => property.markdownDescription));
    const menus: Record<string, { command: string }[]> = manifest.contributes.menus;
    const commands = new Set<string>(Object.values(Command));
    assert.deepEqual(
      Object.values(menus)
        .flat()
        .filter((entry) => !commands.has(entry.command)),
      [],
    );
  });

  test('its bundle loads and activates with nothing but `vscode`', async () => {
    // A folder far from the repository, so that no node_modules can be found from it.
    const installed = join(folder, 'installed', 'dist');
    mkdirSync(installed, { recursive: true });
    writeFileSync(join(installed, 'extension.js'), files.get('extension/dist/extension.js')!);
    const fakeVscode = join(__dirname, '..', 'stubs', 'vscode.js');
    stubModules({ vscode: fakeVscode });
    const { fake, SecretStorage, Uri } = await import(fakeVscode);

    const extension = await import(join(installed, 'extension.js'));
    assert.equal(typeof extension.activate, 'function');
    assert.equal(typeof extension.deactivate, 'function');
    const context = {
      subscriptions: [] as { dispose(): unknown }[],
      secrets: new SecretStorage(),
      extensionUri: Uri.file(join(folder, 'installed')),
    };
    await extension.activate(context);

    assert.deepEqual([...fake.commands.keys()].sort(), Object.values(Command).sort());
    context.subscriptions.forEach((subscription) => subscription.dispose());
    await extension.deactivate();
  });
});
