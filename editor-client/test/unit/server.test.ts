import assert from 'node:assert/strict';
import { Command } from '../../src/commands/ids';
import { ServerCommand } from '../../src/protocol';
import { LanguageClient } from '../stubs/languageclient';
import { EventEmitter, fake, Uri } from '../stubs/vscode';
import { activateExtension, FIXTURES, PYTHON, PYTHON_WITHOUT_SOPLS, run, serverAnswers, useFakes } from './harness';

/** Starts the server the way a user does: through a command that needs it. */
async function startServer(): Promise<void> {
  await run(Command.refreshRuns);
}

function pythonExtension(interpreter: string) {
  const changed = new EventEmitter<unknown>();
  const extension = {
    isActive: true,
    interpreter,
    changed,
    exports: {
      environments: {
        getActiveEnvironmentPath: () => ({ path: extension.interpreter }),
        resolveEnvironment: async ({ path }: { path: string }) => ({ executable: { uri: Uri.file(path) } }),
        onDidChangeActiveEnvironmentPath: changed.event,
      },
    },
  };
  fake.extensions.set('ms-python.python', extension);
  return extension;
}

describe('the server', () => {
  useFakes();

  beforeEach(() => {
    serverAnswers({ [ServerCommand.listRuns]: () => [] });
  });

  it('starts `python -P -m server serve` in the workspace folder with the configured Python', async () => {
    fake.workspaceFolders = [{ uri: Uri.file(FIXTURES), name: 'fixtures', index: 0 }];
    fake.settings.set('sopls.server.pythonPath', '${workspaceFolder}/python');
    fake.settings.set('sopls.server.args', ['-vv']);
    await activateExtension();

    await startServer();

    const { serverOptions } = LanguageClient.current;
    assert.equal(serverOptions.command, PYTHON);
    assert.deepEqual(serverOptions.args, ['-P', '-m', 'server', '-vv', 'serve']);
    assert.equal(serverOptions.options.cwd, FIXTURES);
    assert.deepEqual(fake.messages, []);
  });

  it('sends only the LLM settings the user set as initializationOptions', async () => {
    fake.settings.set('sopls.llm.provider', 'local');
    fake.settings.set('sopls.llm.localModelPath', '/models/qwen.gguf');
    fake.settings.set('sopls.llm.model', 'qwen2.5-coder');
    fake.settings.set('sopls.llm.baseUrl', 'http://127.0.0.1:11434/v1');
    fake.settings.set('sopls.llm.structuredOutput', 'json_object');
    fake.settings.set('sopls.llm.maxConcurrency', 2);
    fake.settings.set('sopls.run.investment', 9);
    await activateExtension();

    await startServer();

    assert.deepEqual(LanguageClient.current.clientOptions.initializationOptions, {
      llm: {
        provider: 'local',
        localModelPath: '/models/qwen.gguf',
        model: 'qwen2.5-coder',
        baseUrl: 'http://127.0.0.1:11434/v1',
        structuredOutput: 'json_object',
        maxConcurrency: 2,
      },
    });
  });

  it('leaves out blank settings so that the config file decides', async () => {
    fake.settings.set('sopls.llm.model', '  ');
    fake.settings.set('sopls.llm.maxConcurrency', null);
    await activateExtension();

    await startServer();

    assert.deepEqual(LanguageClient.current.clientOptions.initializationOptions, { llm: {} });
  });

  it("answers workspace/configuration for `sopls` with the server's settings, not the raw section", async () => {
    fake.settings.set('sopls.llm.model', 'gpt-4.1-mini');
    await activateExtension();
    await startServer();
    const middleware = LanguageClient.current.clientOptions.middleware.workspace.configuration;

    const answer = await middleware({ items: [{ section: 'sopls' }, { section: 'files' }] }, undefined, async () => [
      { server: { pythonPath: PYTHON }, llm: { model: 'gpt-4.1-mini' } },
      { exclude: {} },
    ]);

    assert.deepEqual(answer, [{ llm: { model: 'gpt-4.1-mini' } }, { exclude: {} }]);
  });

  it('sends changed LLM settings, restarts for a changed launch, and does neither for run options', async () => {
    await activateExtension();
    await startServer();
    const first = LanguageClient.current;

    fake.changeSetting('sopls.llm.model', 'model-b');
    fake.changeSetting('sopls.run.investment', 4);
    assert.deepEqual(first.notifications, [
      { method: 'workspace/didChangeConfiguration', params: { settings: { sopls: { llm: { model: 'model-b' } } } } },
    ]);
    assert.equal(LanguageClient.instances.length, 1);

    fake.changeSetting('sopls.server.args', ['-v']);
    await startServer();
    assert.equal(LanguageClient.instances.length, 2);
    assert.equal(first.isRunning(), false);
    assert.deepEqual(LanguageClient.current.serverOptions.args, ['-P', '-m', 'server', '-v', 'serve']);
  });

  it("uses the Python extension's interpreter when no Python is set, and follows its changes", async () => {
    fake.settings.delete('sopls.server.pythonPath');
    const extension = pythonExtension(PYTHON);
    await activateExtension();

    await startServer();
    assert.equal(LanguageClient.current.serverOptions.command, PYTHON);

    extension.interpreter = PYTHON_WITHOUT_SOPLS;
    extension.changed.fire({});
    await startServer();
    const texts = fake.messages.map((message) => message.text);
    assert.ok(
      texts.some((text) =>
        /^sopls could not start with .*python-without-sopls \(from the Python extension\)/.test(text),
      ),
      texts.join('\n'),
    );
  });

  it('falls back to python3', async () => {
    fake.settings.delete('sopls.server.pythonPath');
    await activateExtension();

    await startServer();

    const channel = fake.outputChannels.find((candidate) => candidate.name === 'sopls')!;
    assert.ok(
      channel.lines.some((line) => line.includes('with python3 (from the default)')),
      channel.lines.join('\n'),
    );
  });

  it('says why it cannot start, with the install command, when there is no Python', async () => {
    fake.settings.set('sopls.server.pythonPath', '/opt/missing/bin/python');
    fake.answerMessage(/could not start/, 'Copy Install Command');
    await activateExtension();

    await startServer();

    assert.deepEqual(fake.messages[0], {
      level: 'error',
      text: 'sopls could not start with /opt/missing/bin/python (from sopls.server.pythonPath): there is no Python at "/opt/missing/bin/python". Install it with: /opt/missing/bin/python -m pip install sopls',
      items: ['Copy Install Command', 'Open Settings', 'Show Log'],
    });
    assert.equal(
      fake.messages[1].text,
      'sopls: the server is not running: there is no Python at "/opt/missing/bin/python". Fix it and run "sopls: Restart Server".',
    );
    assert.equal(fake.clipboard, '/opt/missing/bin/python -m pip install sopls');
    assert.equal(LanguageClient.instances.length, 0);
  });

  it('says so when sopls is not installed in that Python, or the client fails to start', async () => {
    fake.settings.set('sopls.server.pythonPath', PYTHON_WITHOUT_SOPLS);
    await activateExtension();

    await startServer();
    fake.settings.set('sopls.server.pythonPath', PYTHON);
    LanguageClient.startError = new Error('Server process exited with code 1');
    await run(Command.restartServer);

    assert.deepEqual(
      fake.messages.map((message) => message.text),
      [
        `sopls could not start with ${PYTHON_WITHOUT_SOPLS} (from sopls.server.pythonPath): sopls is not installed in this environment. Install it with: ${PYTHON_WITHOUT_SOPLS} -m pip install sopls`,
        'sopls: the server is not running: sopls is not installed in this environment. Fix it and run "sopls: Restart Server".',
        `sopls could not start with ${PYTHON} (from sopls.server.pythonPath): Server process exited with code 1. Install it with: ${PYTHON} -m pip install sopls`,
      ],
    );
  });
});
