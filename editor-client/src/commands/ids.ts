/**
 * The extension's command ids. The language client registers the server's own `sopls.*`
 * commands (`sopls.generateProject`, …) as VS Code commands, so these live under `sopls.client.`.
 */
export const Command = {
  generateProject: 'sopls.client.generateProject',
  requestFeature: 'sopls.client.requestFeature',
  fixBug: 'sopls.client.fixBug',
  reviewRun: 'sopls.client.reviewRun',
  resumeRun: 'sopls.client.resumeRun',
  cancelRun: 'sopls.client.cancelRun',
  showDocuments: 'sopls.client.showDocuments',
  deleteRun: 'sopls.client.deleteRun',
  showRuns: 'sopls.client.showRuns',
  setApiKey: 'sopls.client.setApiKey',
  restartServer: 'sopls.client.restartServer',
  acceptAll: 'sopls.client.acceptAll',
  acceptFile: 'sopls.client.acceptFile',
  discard: 'sopls.client.discard',
  refreshRuns: 'sopls.client.refreshRuns',
} as const;

export type CommandId = (typeof Command)[keyof typeof Command];
