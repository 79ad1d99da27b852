import assert from 'node:assert/strict';
import { Command } from '../../src/commands/ids';
import { ServerCommand } from '../../src/protocol';
import { LanguageClient } from '../stubs/languageclient';
import { fake, SecretStorage } from '../stubs/vscode';
import { activateExtension, run, serverAnswers, useFakes } from './harness';

const KEY = 'sk-unit-3f9a2c';
const SECRET = 'sopls.llm.apiKey';

describe('Set API Key', () => {
  useFakes();

  beforeEach(() => {
    serverAnswers({ [ServerCommand.listRuns]: () => [] });
  });

  it('stores the key in the secret storage and sends it to the server, never to the settings', async () => {
    const { secrets } = await activateExtension();
    await run(Command.refreshRuns);
    fake.answerInput(KEY);

    await run(Command.setApiKey);

    assert.equal(fake.inputBoxes[0].password, true);
    assert.equal(secrets.values.get(SECRET), KEY);
    assert.deepEqual(fake.configurationUpdates, []);
    assert.deepEqual(LanguageClient.current.notifications, [
      { method: 'workspace/didChangeConfiguration', params: { settings: { sopls: { llm: { apiKey: KEY } } } } },
    ]);
    assert.deepEqual(fake.messages, [{ level: 'information', text: 'sopls: API key saved.', items: [] }]);
  });

  it('a stored key goes with the initializationOptions and the workspace/configuration answer', async () => {
    const secrets = new SecretStorage();
    secrets.values.set(SECRET, KEY);
    fake.settings.set('sopls.llm.model', 'gpt-4o-mini');
    await activateExtension(secrets);

    await run(Command.refreshRuns);

    const { clientOptions } = LanguageClient.current;
    assert.deepEqual(clientOptions.initializationOptions, { llm: { model: 'gpt-4o-mini', apiKey: KEY } });
    const answer = await clientOptions.middleware.workspace.configuration(
      { items: [{ section: 'sopls' }] },
      undefined,
      async () => [{}],
    );
    assert.deepEqual(answer, [{ llm: { model: 'gpt-4o-mini', apiKey: KEY } }]);
  });

  it('an empty key removes the stored one', async () => {
    const secrets = new SecretStorage();
    secrets.values.set(SECRET, KEY);
    await activateExtension(secrets);
    await run(Command.refreshRuns);
    fake.answerInput('');

    await run(Command.setApiKey);

    assert.equal(secrets.values.has(SECRET), false);
    assert.deepEqual(LanguageClient.current.notifications.at(-1)?.params, { settings: { sopls: { llm: {} } } });
    assert.equal(fake.messages.at(-1)?.text, 'sopls: API key removed.');
  });

  it('escaping stores nothing', async () => {
    const { secrets } = await activateExtension();
    fake.answerInput(undefined);

    await run(Command.setApiKey);

    assert.equal(secrets.values.size, 0);
    assert.deepEqual(fake.messages, []);
  });

  it('the key never reaches the sopls output, even in a protocol trace', async () => {
    const secrets = new SecretStorage();
    secrets.values.set(SECRET, KEY);
    await activateExtension(secrets);
    await run(Command.refreshRuns);
    const { clientOptions } = LanguageClient.current;

    // What the language client writes: a verbose trace of initialize, the server's stderr, errors.
    clientOptions.traceOutputChannel.trace(
      `Sending request 'initialize - (0)'.\nParams: ${JSON.stringify(clientOptions.initializationOptions)}`,
    );
    clientOptions.outputChannel.append(`Authorization: Bearer ${KEY}\n`);
    clientOptions.outputChannel.error(new Error(`failed with ${KEY}`));

    const channel = fake.outputChannels.find((candidate) => candidate.name === 'sopls')!;
    const output = channel.lines.join('\n');
    assert.ok(!output.includes(KEY), output);
    assert.match(output, /"apiKey":"••••••••"/);
    assert.match(output, /Bearer ••••••••/);
  });
});
