import { headline } from '../format';
import { RequestFeatureArguments, ServerCommand } from '../protocol';
import { Services } from '../services';
import { runDefaults } from '../settings';
import { askText, workspaceFolder } from './input';
import { pickRunOptions } from './runOptions';
import { startRun } from './startRun';

const TITLE = 'sopls: Request Feature';

export async function requestFeature(services: Services): Promise<void> {
  const folder = workspaceFolder();
  const requirement = await askText(
    {
      title: TITLE,
      prompt: `What should ${folder.name} do that it does not do yet?`,
      placeHolder: 'add a --top option that limits the output',
    },
    'the feature request is empty: say what the code should do.',
  );
  if (requirement === undefined) {
    return;
  }
  const choice = await pickRunOptions(TITLE, runDefaults('repository'));
  if (choice === undefined) {
    return;
  }
  const argument: RequestFeatureArguments = { requirement, ...choice.options, apply: 'none' };
  await startRun(services, `sopls: ${headline(requirement)}`, ServerCommand.requestFeature, argument);
}
