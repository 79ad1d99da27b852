// How the documents webview draws one mermaid diagram. Nothing here touches the DOM or imports
// mermaid, so the same code runs in Node tests with a stand-in parser.

/** What drawing needs of mermaid; a parameter, so that tests can pass a stand-in. */
export interface DiagramParser {
  parse(text: string): Promise<unknown>;
  render(id: string, text: string): Promise<{ svg: string }>;
}

export type Drawing = { svg: string } | { error: string };

export type DiagramTheme = 'dark' | 'default';

/** The diagram as SVG, or the parse or render error; a bad diagram never throws. */
export async function drawDiagram(parser: DiagramParser, id: string, source: string): Promise<Drawing> {
  try {
    await parser.parse(source);
    return { svg: (await parser.render(id, source)).svg };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/** The HTML a figure gets: the picture, or the error and the source so nothing is left blank. */
export function drawingHtml(drawing: Drawing, source: string): string {
  if ('svg' in drawing) {
    return drawing.svg;
  }
  return [
    '<p class="diagram-failure">This diagram does not parse, so its source is shown.</p>',
    `<pre class="diagram-error">${escapeHtml(drawing.error)}</pre>`,
    `<pre class="diagram-source">${escapeHtml(source)}</pre>`,
  ].join('');
}

/** Mermaid's theme for the body's classes: VS Code marks dark and high-contrast themes there. */
export function themeOf(classes: { contains(name: string): boolean }): DiagramTheme {
  const highContrastDark = classes.contains('vscode-high-contrast') && !classes.contains('vscode-high-contrast-light');
  return classes.contains('vscode-dark') || highContrastDark ? 'dark' : 'default';
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
