// The steps of the flows that several tests take, as a user takes them.
import { Locator } from 'playwright-core';
import { IDEA } from './company';
import { RUN_SECONDS, STEP_SECONDS, Workbench } from './workbench';

export const GENERATE = 'sopls: Generate Project from Idea';

/**
 * Palette → Generate Project from Idea → the idea → code review turned off in the options →
 * Start. Answers the run's progress notification.
 */
export async function startGeneration(workbench: Workbench): Promise<Locator> {
  await workbench.runCommand(GENERATE);
  await workbench.answerInput(/The idea in a line/, IDEA);
  // Turning code review off shows the list again with the new value.
  await workbench.pick(/^Code review/);
  const start = workbench.option(/Start/);
  await start.filter({ hasText: 'code review off' }).waitFor({ timeout: STEP_SECONDS * 1000 });
  await workbench.screenshot('options');
  await start.click();
  return workbench.waitForToast(`sopls: ${IDEA}`);
}

/** Runs `command` on the workspace: `text` answers the input box `prompt`, the options as they are. */
export async function startRepositoryRun(
  workbench: Workbench,
  command: string,
  prompt: RegExp,
  text: string,
): Promise<void> {
  await workbench.runCommand(command);
  await workbench.answerInput(prompt, text);
  await workbench.pick(/Start/);
}

/** Palette → Resume Run → the run of `requirement`. */
export async function resume(workbench: Workbench, requirement: string | RegExp): Promise<void> {
  await workbench.runCommand('sopls: Resume Run');
  await workbench.pick(requirement);
}

/** Waits for the review's question and answers Accept All. */
export async function acceptAll(workbench: Workbench): Promise<void> {
  await workbench.clickToastButton(/files to review/, 'Accept All');
  await workbench.waitForToast(/applied the proposal of run/, RUN_SECONDS);
}
