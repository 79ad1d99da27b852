// Changes to an opened git repository in a real VS Code: a feature request and a bug fix, each
// reviewed as a real diff of the existing file, then applied.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { companyRules } from '../protocol/session';
import { acceptAll, startRepositoryRun } from './moves';
import { RUN_SECONDS, STEP_SECONDS, Workbench } from './workbench';

const CALC = `"""Arithmetic."""


def add(a: int, b: int) -> int:
    """The sum of a and b."""
    return a - b


def double(a: int) -> int:
    return 2 * a
`;
const CALC_TEST = `from pkg.calc import add, double


def test_double():
    assert double(4) == 8
`;
const MULTIPLY = '\n\ndef multiply(a: int, b: int) -> int:\n    return a * b\n';
const MULTIPLY_TEST = 'from pkg.calc import multiply\n\n\ndef test_multiply():\n    assert multiply(3, 4) == 12\n';

/** A committed git repository with a package, its test and an ignored `.sopls/`. */
function calcRepository(root: string): void {
  mkdirSync(join(root, 'pkg'));
  mkdirSync(join(root, 'tests'));
  writeFileSync(join(root, 'pkg', '__init__.py'), '');
  writeFileSync(join(root, 'pkg', 'calc.py'), CALC);
  writeFileSync(join(root, 'tests', 'test_calc.py'), CALC_TEST);
  writeFileSync(join(root, '.gitignore'), '.sopls/\n');
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@localhost', ...args], { cwd: root, stdio: 'ignore' });
  git('init', '-q');
  git('add', '-A');
  git('commit', '-q', '-m', 'calc');
}

type Rule = { match: Record<string, unknown>; reply: Record<string, unknown> };

/** The company fixture's answers with `first` ahead of them. */
function rulesWith(first: Rule[]): object {
  const { rules } = companyRules() as { rules: Rule[] };
  return { rules: [...first, ...rules] };
}

function json(schema: string, data: object): Rule {
  return { match: { schema }, reply: { kind: 'json', data } };
}

function edit(contains: string, content: string): Rule {
  return { match: { contains }, reply: { kind: 'text', content } };
}

const FEATURE_RULES: Rule[] = [
  json('SystemDesign', {
    implementation_approach: 'Add multiply next to add in pkg/calc.py and test it.',
    file_list: ['pkg/calc.py', 'tests/test_multiply.py'],
    entry_point: 'pkg/calc.py',
    data_structures_and_interfaces: 'classDiagram\n  class calc',
    program_call_flow: 'sequenceDiagram\n  test->>calc: multiply(a, b)',
  }),
  json('TaskList', {
    logic_analysis: [
      { path: 'pkg/calc.py', holds: 'multiply', uses: [] },
      { path: 'tests/test_multiply.py', holds: 'its test', uses: ['pkg/calc.py'] },
    ],
    task_list: ['pkg/calc.py', 'tests/test_multiply.py'],
  }),
  json('ChangePlan', {
    summary: 'multiply in calc, with a test',
    files: [
      { path: 'pkg/calc.py', change: 'modify', what: 'add multiply(a, b)' },
      { path: 'tests/test_multiply.py', change: 'create', what: 'test multiply', uses: ['pkg/calc.py'] },
    ],
  }),
  edit(
    '## The current version of pkg/calc.py',
    'pkg/calc.py\n<<<<<<< SEARCH\ndef double(a: int) -> int:\n    return 2 * a\n=======\n' +
      `def double(a: int) -> int:\n    return 2 * a\n${MULTIPLY}>>>>>>> REPLACE\n`,
  ),
  edit(
    'Write the complete file `tests/test_multiply.py`',
    `\`\`\`python tests/test_multiply.py\n${MULTIPLY_TEST}\`\`\`\n`,
  ),
];

const REGRESSION_TEST = 'from pkg.calc import add\n\n\ndef test_add_adds():\n    assert add(2, 3) == 5\n';

const FIX_RULES: Rule[] = [
  json('ChangePlan', {
    summary: 'add subtracts instead of adding',
    files: [{ path: 'pkg/calc.py', change: 'modify', what: 'make add return a + b' }],
  }),
  edit(
    'Write `tests/test_bug_add_subtracts.py`',
    `\`\`\`python tests/test_bug_add_subtracts.py\n${REGRESSION_TEST}\`\`\`\n`,
  ),
  edit(
    '## The current version of pkg/calc.py',
    'pkg/calc.py\n<<<<<<< SEARCH\n    return a - b\n=======\n    return a + b\n>>>>>>> REPLACE\n',
  ),
];

/** The review of `pkg/calc.py` is a real diff: the file as it is, beside the lines that change. */
async function assertCalcDiff(workbench: Workbench, added: string): Promise<void> {
  const page = workbench.page;
  await page.getByRole('tab', { name: /sopls run / }).waitFor({ timeout: RUN_SECONDS * 1000 });
  const entry = page
    .locator('.multiDiffEditor .multiDiffEntry')
    .filter({ has: page.locator('.header', { hasText: 'calc.py' }) })
    .first();
  await entry
    .locator('.header')
    .filter({ hasText: /pkg/ })
    .waitFor({ timeout: STEP_SECONDS * 1000 });
  const side = (name: string) => entry.locator(`.${name}-in-monaco-diff-editor .view-lines`);
  await side('original')
    .filter({ hasText: 'def double' })
    .waitFor({ timeout: STEP_SECONDS * 1000 });
  await side('modified')
    .filter({ hasText: added })
    .waitFor({ timeout: STEP_SECONDS * 1000 });
  await workbench.screenshot('review');
}

describe('Changes to an opened repository, in VS Code', { timeout: 600_000 }, () => {
  test('Request Feature proposes an edit of the existing file and a new test, and Accept All applies both', async () => {
    const prd = companyRules() as { rules: Rule[] };
    const prdData = {
      ...(prd.rules[0].reply.data as object),
      original_requirement: 'add multiply',
      project_name: 'calc',
    };
    await Workbench.run(
      'request-feature',
      { prepare: calcRepository, rules: rulesWith([json('PRD', prdData), ...FEATURE_RULES]) },
      async (workbench) => {
        await startRepositoryRun(workbench, 'sopls: Request Feature', /What should/, 'add multiply');
        await assertCalcDiff(workbench, 'def multiply');
        await acceptAll(workbench);

        const calc = readFileSync(join(workbench.workspace, 'pkg', 'calc.py'), 'utf8');
        assert.equal(calc, CALC + MULTIPLY);
        assert.equal(readFileSync(join(workbench.workspace, 'tests', 'test_multiply.py'), 'utf8'), MULTIPLY_TEST);
      },
    );
  });

  test('Fix Bug proposes the one-line fix as a diff, and Accept All applies it', async () => {
    await Workbench.run('fix-bug', { prepare: calcRepository, rules: rulesWith(FIX_RULES) }, async (workbench) => {
      await startRepositoryRun(workbench, 'sopls: Fix Bug', /What goes wrong/, 'add subtracts');
      await assertCalcDiff(workbench, 'return a + b');
      await acceptAll(workbench);

      const calc = readFileSync(join(workbench.workspace, 'pkg', 'calc.py'), 'utf8');
      assert.equal(calc, CALC.replace('return a - b', 'return a + b'));
      const regression = join(workbench.workspace, 'tests', 'test_bug_add_subtracts.py');
      assert.equal(readFileSync(regression, 'utf8'), REGRESSION_TEST, 'the test that shows the bug is kept');
    });
  });
});
