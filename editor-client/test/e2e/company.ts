// What the company fixture makes the team propose, and how a test looks for it on disk.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { companyRules, FIXTURES } from '../protocol/session';

export const IDEA = 'a word-frequency CLI';
/** The folder of the workspace a generated project goes into: the fixture's `project_name`. */
export const PROJECT = 'word_freq';
/** The code files of the fixture's project (its documents go to `docs/`). */
export const CODE_FILES = ['main.py', 'wordfreq/counter.py'];

interface Rule {
  match: Record<string, unknown>;
  reply: Record<string, unknown>;
}

function fixtureRules(): Rule[] {
  return (JSON.parse(readFileSync(join(FIXTURES, 'company.json'), 'utf8')) as { rules: Rule[] }).rules;
}

/** The text the fixture's Engineer writes for `path`: its fenced code block. */
export function proposedText(path: string): string {
  for (const rule of fixtureRules()) {
    const content = rule.reply.content;
    if (typeof content !== 'string') {
      continue;
    }
    const start = content.indexOf(` ${path}\n`);
    if (start !== -1 && content.lastIndexOf('```', start) !== -1) {
      const body = content.slice(start + path.length + 2);
      return body.slice(0, body.indexOf('```'));
    }
  }
  throw new Error(`the company fixture writes no ${path}`);
}

/** The company rules with every answer slowed: `delay` s before it, and a drip of pieces. */
export function slowCompanyRules(delay: number): object {
  return companyRules(delay);
}

/** The company rules with every answer replaced by an HTTP 500. */
export function failingRules(): object {
  return {
    rules: [{ match: {}, reply: { kind: 'fault', status: 500, message: 'the scripted endpoint is down' } }],
  };
}

/** The company rules answered only for requests that present `key`; any other key gets a 401. */
export function keyedRules(key: string): object {
  const { rules } = companyRules() as { rules: Rule[] };
  return {
    rules: [
      ...rules.map((rule) => ({ ...rule, match: { ...rule.match, api_key: key } })),
      { match: {}, reply: { kind: 'fault', status: 401, message: 'Incorrect API key provided.' } },
    ],
  };
}

/** The company rules, but the Product Manager answers prose where its PRD should be. */
export const UNUSABLE_PRD = 'A PRD? Here are my thoughts, in no particular format.';
export function unusablePrdRules(): object {
  const { rules } = companyRules() as { rules: Rule[] };
  return { rules: [{ match: { schema: 'PRD' }, reply: { kind: 'text', content: UNUSABLE_PRD } }, ...rules] };
}

/** Every file under `folder`, relative and sorted, without sopls's own `.sopls/` state. */
export function filesUnder(folder: string): string[] {
  if (!existsSync(folder)) {
    return [];
  }
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(folder, join(entry.parentPath, entry.name)))
    .filter((path) => !path.startsWith('.sopls/') && !path.startsWith('.git/'))
    .sort();
}
