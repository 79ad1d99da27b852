import { DocumentsView } from './documentsView';
import { RedactingLog } from './log';
import { Review } from './review';
import { RunStore } from './runs';
import { ApiKeyStore } from './secrets';
import { SoplsServer } from './server';

/** What the commands work with; built once at activation. */
export interface Services {
  server: SoplsServer;
  runs: RunStore;
  review: Review;
  documentsView: DocumentsView;
  apiKeys: ApiKeyStore;
  log: RedactingLog;
}
