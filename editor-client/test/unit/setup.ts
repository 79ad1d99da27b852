// Loaded by mocha before the unit tests (see .mocharc.json): `vscode` and the language client are
// the fakes in test/stubs; everything else is the extension's own code.
import { join } from 'node:path';
import { stubModules } from '../stubs/modules';

stubModules({
  vscode: join(__dirname, '..', 'stubs', 'vscode.js'),
  'vscode-languageclient/node': join(__dirname, '..', 'stubs', 'languageclient.js'),
});
