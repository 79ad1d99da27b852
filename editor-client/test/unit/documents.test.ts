import assert from 'node:assert/strict';
import { Command } from '../../src/commands/ids';
import { FileChange, ServerCommand } from '../../src/protocol';
import { PROPOSAL_SCHEME } from '../../src/review';
import { RUNS_VIEW } from '../../src/runsTree';
import { drawDiagram, drawingHtml, DiagramParser, themeOf } from '../../src/webview/diagrams';
import { LanguageClient } from '../stubs/languageclient';
import { fake, Uri, WebviewPanel } from '../stubs/vscode';
import {
  activateExtension,
  EXTENSION,
  FILES,
  fileUri,
  run,
  RUN_ID,
  runResult,
  runSummary,
  serverAnswers,
  useFakes,
  WORKSPACE,
} from './harness';

const PRD = [
  '# PRD: word_freq',
  '## Product goals\n- count words',
  '## Competitive quadrant chart\n```mermaid\nquadrantChart\n    title Reach <and> engagement\n    A: [0.3, 0.6]\n```',
].join('\n\n');
const DESIGN = [
  '# System design',
  '## File list\n- `word_freq/main.py`',
  '## Data structures and interfaces\n```mermaid\nclassDiagram\n    class Counter\n```',
  '## Program call flow\n```mermaid\nsequenceDiagram\n    Main->>Counter: count()\n```',
].join('\n\n');
const TASKS = [
  '# Tasks',
  '## Logic analysis\n| file | holds | uses |\n|---|---|---|\n| `wordfreq/counter.py` | Counter | - |',
  '## Task list\n1. `wordfreq/counter.py`\n2. `./word_freq/main.py`\n3. `not_proposed.py`',
  '## API spec\n![chart](https://example.com/chart.png) <script>alert(1)</script>',
].join('\n\n');

function document(stem: string, text: string): FileChange {
  const path = `docs/${stem}.md`;
  return { path, uri: fileUri(path), change: 'create', before: null, after: text };
}

const DOCUMENTED = [...FILES, document('prd', PRD), document('system_design', DESIGN), document('tasks', TASKS)];

function answerRun(files: FileChange[] = DOCUMENTED): void {
  serverAnswers({
    [ServerCommand.listRuns]: () => [runSummary('completed')],
    [ServerCommand.getRun]: () => {
      const { applied: _applied, ...stored } = runResult('completed', files);
      return stored;
    },
    [ServerCommand.deleteRun]: ({ runId }) => ({ runId, deleted: true }),
  });
}

function onlyPanel(): WebviewPanel {
  assert.equal(fake.webviewPanels.length, 1, 'one documents panel');
  return fake.webviewPanels[0];
}

describe('Show Documents', () => {
  useFakes();

  beforeEach(async () => {
    await activateExtension();
    answerRun();
  });

  it('asks which run from the palette and opens a webview that loads only the extension’s script', async () => {
    fake.answerQuickPick('a word-frequency CLI');

    await run(Command.showDocuments);

    const panel = onlyPanel();
    assert.equal(panel.viewType, 'sopls.documents');
    assert.equal(panel.title, 'sopls documents: a word-frequency CLI');
    assert.equal(panel.options.enableScripts, true);
    assert.deepEqual(
      panel.options.localResourceRoots?.map((root) => root.toString()),
      [Uri.file(`${EXTENSION}/dist`).toString()],
    );
    const html = panel.webview.html;
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1];
    const nonce = /'nonce-([0-9a-f]{32})'/.exec(csp ?? '')?.[1];
    assert.ok(nonce, 'the policy names a nonce');
    assert.equal(
      csp,
      `default-src 'none'; script-src https://*.vscode-cdn.net 'nonce-${nonce}'; ` +
        "style-src https://*.vscode-cdn.net 'unsafe-inline'; img-src https://*.vscode-cdn.net data:; " +
        'font-src https://*.vscode-cdn.net',
    );
    const script = `https://file+.vscode-resource.vscode-cdn.net${EXTENSION}/dist/webview/documents.js`;
    assert.deepEqual(
      [...html.matchAll(/<script\b[^>]*>/g)].map(([tag]) => tag),
      [`<script nonce="${nonce}" src="${script}">`],
    );
    assert.deepEqual(
      [...html.matchAll(/\bsrc="([^"]*)"/g)].map(([, source]) => source),
      [script],
    );
    assert.doesNotMatch(html, /<(img|link|iframe)\b/);
    assert.doesNotMatch(html, /<script>alert/, "the model's HTML is shown as text");
  });

  it('shows the PRD, the design and the tasks, in that order', async () => {
    await run(Command.showDocuments, RUN_ID);

    const html = onlyPanel().webview.html;
    const sections = [...html.matchAll(/<section id="(\w+)" class="document">\n<h1>([^<]+)<\/h1>/g)];
    assert.deepEqual(
      sections.map(([, id, heading]) => [id, heading]),
      [
        ['prd', 'PRD: word_freq'],
        ['system_design', 'System design'],
        ['tasks', 'Tasks'],
      ],
    );
    assert.match(
      html,
      /<nav><a href="#prd">PRD<\/a> · <a href="#system_design">Design<\/a> · <a href="#tasks">Tasks<\/a><\/nav>/,
    );
  });

  it('turns each mermaid block into a diagram figure holding its source', async () => {
    await run(Command.showDocuments, RUN_ID);

    const html = onlyPanel().webview.html;
    const figures = [...html.matchAll(/<figure class="diagram"><pre class="diagram-source">([^<]*)<\/pre><\/figure>/g)];
    assert.deepEqual(
      figures.map(([, source]) => source),
      [
        'quadrantChart\n    title Reach &lt;and&gt; engagement\n    A: [0.3, 0.6]\n',
        'classDiagram\n    class Counter\n',
        'sequenceDiagram\n    Main-&gt;&gt;Counter: count()\n',
      ],
    );
    assert.doesNotMatch(html, /language-mermaid/);
  });

  it('links the proposed files the documents name, and only those', async () => {
    await run(Command.showDocuments, RUN_ID);

    const html = onlyPanel().webview.html;
    const links = [...html.matchAll(/<a class="file-link" href="#" data-path="([^"]+)"/g)].map(([, path]) => path);
    assert.deepEqual(links, ['word_freq/main.py', 'wordfreq/counter.py', 'wordfreq/counter.py', 'word_freq/main.py']);
    assert.match(html, /<code>not_proposed\.py<\/code>/);
  });

  it('a clicked link opens the proposed text, or the file once it holds that text', async () => {
    await run(Command.showDocuments, RUN_ID);
    const panel = onlyPanel();

    await panel.receive({ type: 'openFile', path: 'wordfreq/counter.py' });
    fake.files.set(`${WORKSPACE}/word_freq/main.py`, 'print("hello")\n');
    await panel.receive({ type: 'openFile', path: 'word_freq/main.py' });
    await panel.receive({ type: 'openFile', path: 'obsolete.py' });
    await panel.receive({ type: 'openFile', path: '../../etc/passwd' });
    await panel.receive({ type: 'something else' });

    const proposed = `sopls-proposal:/wordfreq/counter.py?run=${RUN_ID}&side=after`;
    assert.deepEqual(
      fake.shownDocuments.map((uri) => uri.toString()),
      [proposed, fileUri('word_freq/main.py')],
    );
    assert.equal(
      fake.contentProviders.get(PROPOSAL_SCHEME)!.provideTextDocumentContent(Uri.parse(proposed)),
      'new = 2\n',
    );
  });

  it('reads the documents from the run folder when the proposal holds none', async () => {
    answerRun(FILES);
    fake.files.set(`${WORKSPACE}/.sopls/runs/${RUN_ID}/docs/tasks.md`, TASKS);

    await run(Command.showDocuments, RUN_ID);

    const sections = [...onlyPanel().webview.html.matchAll(/<section id="(\w+)"/g)].map(([, id]) => id);
    assert.deepEqual(sections, ['tasks']);
  });

  it('says so when the run has no documents', async () => {
    answerRun(FILES);

    await run(Command.showDocuments, RUN_ID);

    assert.deepEqual(fake.webviewPanels, []);
    assert.deepEqual(fake.messages, [
      {
        level: 'error',
        text: `sopls: run ${RUN_ID} has no documents. Only a new project or a feature request writes a PRD, a design and tasks.`,
        items: [],
      },
    ]);
  });

  it('shows a run again in the same panel', async () => {
    await run(Command.showDocuments, RUN_ID);
    await run(Command.showDocuments, RUN_ID);

    assert.equal(onlyPanel().revealed, 2);
  });

  it('is offered beside the review question of a run with documents, which is asked again after', async () => {
    fake.answerMessage(/6 of 6 files to review/, 'Show Documents');

    await run(Command.reviewRun, RUN_ID);

    const questions = fake.messages.filter((message) => /files to review/.test(message.text));
    assert.equal(questions.length, 2);
    assert.deepEqual(questions[0].items, ['Accept All', 'Accept File…', 'Discard', 'Show Documents']);
    assert.match(onlyPanel().webview.html, /<section id="prd"/);
  });

  it('is in the runs view for every readable run', async () => {
    await run(Command.showRuns);
    const tree = fake.treeProviders.get(RUNS_VIEW)!;
    const [runNode] = await tree.getChildren();

    await run(Command.showDocuments, runNode);

    assert.equal(onlyPanel().title, 'sopls documents: a word-frequency CLI');
  });
});

describe('Delete Run', () => {
  useFakes();

  beforeEach(async () => {
    await activateExtension();
    answerRun();
  });

  it('asks first, in a modal, then removes the run and refreshes the view', async () => {
    await run(Command.showRuns);
    const [runNode] = await fake.treeProviders.get(RUNS_VIEW)!.getChildren();
    fake.answerMessage(/^Delete run/, 'Delete');
    const listed = LanguageClient.current.sent(ServerCommand.listRuns).length;

    await run(Command.deleteRun, runNode);

    const [question] = fake.messages;
    assert.equal(question.text, `Delete run ${RUN_ID} (a word-frequency CLI)?`);
    assert.deepEqual(question.items, ['Delete']);
    assert.equal(question.options?.modal, true);
    assert.match(question.options?.detail ?? '', /The project's files stay\./);
    assert.deepEqual(LanguageClient.current.arguments(ServerCommand.deleteRun), [{ runId: RUN_ID }]);
    assert.equal(LanguageClient.current.sent(ServerCommand.listRuns).length, listed + 1, 'the view is refreshed');
    assert.equal(fake.messages.at(-1)?.text, `sopls: deleted run ${RUN_ID}.`);
  });

  it('deletes nothing when the question is dismissed', async () => {
    await run(Command.deleteRun, RUN_ID);

    assert.deepEqual(LanguageClient.current.arguments(ServerCommand.deleteRun), []);
  });

  it('offers only runs that are not running, and closes their review and documents', async () => {
    serverAnswers({
      [ServerCommand.listRuns]: () => [runSummary('running', 'going'), runSummary('completed')],
      [ServerCommand.getRun]: () => {
        const { applied: _applied, ...stored } = runResult('completed', DOCUMENTED);
        return stored;
      },
      [ServerCommand.deleteRun]: ({ runId }) => ({ runId, deleted: true }),
    });
    await run(Command.reviewRun, RUN_ID);
    await run(Command.showDocuments, RUN_ID);
    let offered: string[] = [];
    fake.quickPickAnswers.push((items) => {
      offered = items.map((item) => (item as { detail?: string }).detail ?? '');
      return items[0];
    });
    fake.answerMessage(/^Delete run/, 'Delete');

    await run(Command.deleteRun);

    assert.equal(offered.length, 1, 'the running run is not offered');
    assert.ok(offered[0].startsWith(`run ${RUN_ID} · started`));
    assert.equal(onlyPanel().isDisposed, true);
    assert.deepEqual(fake.executed.filter((call) => call.command === 'setContext').at(-1)?.args, [
      'sopls.reviewing',
      false,
    ]);
  });
});

describe("the webview's diagrams", () => {
  const parser = (error?: Error): DiagramParser & { rendered: string[] } => {
    const rendered: string[] = [];
    return {
      rendered,
      async parse() {
        if (error) {
          throw error;
        }
        return { diagramType: 'class' };
      },
      async render(id, text) {
        rendered.push(id);
        return { svg: `<svg id="${id}">${text.length}</svg>` };
      },
    };
  };

  it('draws a diagram that parses as its SVG', async () => {
    const drawing = await drawDiagram(parser(), 'diagram-1-0', 'classDiagram\n  class A');

    assert.deepEqual(drawing, { svg: '<svg id="diagram-1-0">22</svg>' });
    assert.equal(drawingHtml(drawing, 'classDiagram\n  class A'), '<svg id="diagram-1-0">22</svg>');
  });

  it('shows the source and the parse error of a diagram that does not parse, never a blank', async () => {
    const failing = parser(new Error("Parse error on line 2:\n...A <|-- \n-------^\nExpecting 'ALPHA'"));
    const source = 'classDiagram\n  A <|-- ';

    const drawing = await drawDiagram(failing, 'diagram-1-0', source);

    assert.deepEqual(failing.rendered, [], 'nothing is rendered from a source that does not parse');
    assert.equal(
      drawingHtml(drawing, source),
      '<p class="diagram-failure">This diagram does not parse, so its source is shown.</p>' +
        '<pre class="diagram-error">Parse error on line 2:\n...A &#60;|-- \n-------^\nExpecting &#39;ALPHA&#39;</pre>' +
        '<pre class="diagram-source">classDiagram\n  A &#60;|-- </pre>',
    );
  });

  it('shows a render error the same way', async () => {
    const broken: DiagramParser = {
      parse: async () => true,
      render: async () => {
        throw 'no layout';
      },
    };

    assert.deepEqual(await drawDiagram(broken, 'd', 'sequenceDiagram'), { error: 'no layout' });
  });

  it('picks the dark theme for dark and high-contrast dark themes', () => {
    const classes = (...names: string[]) => ({ contains: (name: string) => names.includes(name) });

    assert.equal(themeOf(classes('vscode-light')), 'default');
    assert.equal(themeOf(classes('vscode-dark')), 'dark');
    assert.equal(themeOf(classes('vscode-high-contrast')), 'dark');
    assert.equal(themeOf(classes('vscode-high-contrast', 'vscode-high-contrast-light')), 'default');
  });
});
