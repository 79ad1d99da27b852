import { headline } from '../format';
import { GenerateProjectArguments, ServerCommand } from '../protocol';
import { Services } from '../services';
import { runDefaults } from '../settings';
import { askText, workspaceFolder } from './input';
import { pickRunOptions } from './runOptions';
import { startRun } from './startRun';

const TITLE = 'sopls: Generate Project from Idea';

export async function generateProject(services: Services): Promise<void> {
  const folder = workspaceFolder();
  const idea = await askText(
    {
      title: TITLE,
      prompt: 'The idea in a line; the team writes the PRD, the design, the tasks, the code and its tests.',
      placeHolder: 'a snake game in the terminal',
    },
    'the idea is empty: say what to build.',
  );
  if (idea === undefined) {
    return;
  }
  const choice = await pickRunOptions(TITLE, runDefaults('project'), folder.uri);
  if (choice === undefined) {
    return;
  }
  const argument: GenerateProjectArguments = {
    idea,
    ...choice.options,
    ...(choice.target ? { targetUri: choice.target.toString() } : {}),
    apply: 'none',
  };
  await startRun(services, `sopls: ${headline(idea)}`, ServerCommand.generateProject, argument);
}
