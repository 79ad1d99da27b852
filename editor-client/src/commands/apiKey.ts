import * as vscode from 'vscode';
import { Services } from '../services';

/**
 * Keeps the endpoint's API key in VS Code's secret storage, never in settings; the server gets
 * it as `llm.apiKey` with its other settings (see `ApiKeyStore.onDidChange` in extension.ts).
 */
export async function setApiKey(services: Services): Promise<void> {
  const key = await vscode.window.showInputBox({
    title: 'sopls: Set API Key',
    prompt:
      "The API key of your LLM endpoint, kept in VS Code's secret storage. Leave it empty to remove the stored key.",
    password: true,
    ignoreFocusOut: true,
  });
  if (key === undefined) {
    return;
  }
  await services.apiKeys.set(key);
  void vscode.window.showInformationMessage(key.trim() ? 'sopls: API key saved.' : 'sopls: API key removed.');
}
