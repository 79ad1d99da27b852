// The HTML of the documents webview: the run's PRD, design and tasks rendered from Markdown,
// mermaid blocks as figures the webview script draws, and proposed files as links.
import MarkdownIt from 'markdown-it';

/** The documents sopls writes, in reading order, by the stem of `docs/<stem>.md`. */
export const DOCUMENTS = [
  { stem: 'prd', title: 'PRD' },
  { stem: 'system_design', title: 'Design' },
  { stem: 'tasks', title: 'Tasks' },
] as const;

export type DocumentStem = (typeof DOCUMENTS)[number]['stem'];

export function documentPath(stem: DocumentStem): string {
  return `docs/${stem}.md`;
}

/** Whether a run's files hold any of sopls's documents, so that showing them is worth offering. */
export function proposesDocuments(files: readonly { path: string; after?: string | null }[]): boolean {
  return DOCUMENTS.some(({ stem }) => files.some((file) => file.path === documentPath(stem) && file.after));
}

export interface PageDocument {
  stem: DocumentStem;
  title: string;
  markdown: string;
}

export interface Page {
  title: string;
  documents: readonly PageDocument[];
  /** Proposed files a document may name in `code`; each becomes a link that opens the file. */
  files: readonly string[];
  /** The webview's `cspSource`. */
  cspSource: string;
  /** The webview URI of the bundled script that draws the diagrams. */
  script: string;
  nonce: string;
}

/**
 * A Markdown renderer for the model's text: no raw HTML and no images (the page loads nothing
 * from outside the extension), mermaid blocks as figures holding their source.
 */
function renderer(files: ReadonlySet<string>) {
  const markdown = new MarkdownIt({ html: false, linkify: false }).disable('image');
  const escape = markdown.utils.escapeHtml;
  const fence = markdown.renderer.rules.fence!;
  markdown.renderer.rules.fence = (tokens, index, options, env, self) => {
    const token = tokens[index];
    if (token.info.trim() !== 'mermaid') {
      return fence(tokens, index, options, env, self);
    }
    return `<figure class="diagram"><pre class="diagram-source">${escape(token.content)}</pre></figure>\n`;
  };
  markdown.renderer.rules.code_inline = (tokens, index) => {
    const text = tokens[index].content;
    const path = text.replace(/^\.\//, '');
    const code = `<code>${escape(text)}</code>`;
    return files.has(path)
      ? `<a class="file-link" href="#" data-path="${escape(path)}" title="Open the proposed ${escape(path)}">${code}</a>`
      : code;
  };
  return markdown;
}

export function documentsPage(page: Page): string {
  const markdown = renderer(new Set(page.files));
  const escape = markdown.utils.escapeHtml;
  const csp = [
    "default-src 'none'",
    `script-src ${page.cspSource} 'nonce-${page.nonce}'`,
    // Mermaid writes the styles of each diagram inline, in the SVG.
    `style-src ${page.cspSource} 'unsafe-inline'`,
    `img-src ${page.cspSource} data:`,
    `font-src ${page.cspSource}`,
  ].join('; ');
  const nav = page.documents.map((document) => `<a href="#${document.stem}">${escape(document.title)}</a>`).join(' · ');
  const sections = page.documents.map(
    (document) => `<section id="${document.stem}" class="document">\n${markdown.render(document.markdown)}</section>`,
  );
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(page.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<nav>${nav}</nav>
${sections.join('\n')}
<script nonce="${page.nonce}" src="${escape(page.script)}"></script>
</body>
</html>
`;
}

// The theme's own colours and fonts, so the page follows light, dark and high-contrast themes.
const STYLE = `
body { color: var(--vscode-foreground); background: var(--vscode-editor-background);
  font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); line-height: 1.5;
  max-width: 60rem; padding: 0 1.5rem 3rem; }
nav { position: sticky; top: 0; padding: 0.5rem 0; background: var(--vscode-editor-background);
  border-bottom: 1px solid var(--vscode-panel-border); }
a { color: var(--vscode-textLink-foreground); }
a:hover { color: var(--vscode-textLink-activeForeground); }
section.document + section.document { border-top: 1px solid var(--vscode-panel-border); margin-top: 2rem; }
code { font-family: var(--vscode-editor-font-family); background: var(--vscode-textCodeBlock-background);
  padding: 0 0.2em; border-radius: 3px; }
pre { background: var(--vscode-textCodeBlock-background); padding: 0.75rem; overflow-x: auto; }
pre code { padding: 0; background: none; }
table { border-collapse: collapse; }
th, td { border: 1px solid var(--vscode-panel-border); padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
figure.diagram { margin: 1rem 0; overflow-x: auto; }
figure.diagram svg { max-width: 100%; height: auto; }
.diagram-failure { color: var(--vscode-errorForeground); }
pre.diagram-error { color: var(--vscode-errorForeground); }
`;
