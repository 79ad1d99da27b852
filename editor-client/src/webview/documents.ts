// The script of the documents webview: draws each mermaid figure in the theme's colours, again
// when the theme changes, and asks the extension to open a file when its link is clicked.
import mermaid from 'mermaid';
import { DiagramTheme, drawDiagram, drawingHtml, themeOf } from './diagrams';

declare function acquireVsCodeApi(): { postMessage(message: unknown): void };

const vscode = acquireVsCodeApi();
const figures = [...document.querySelectorAll<HTMLElement>('figure.diagram')].map((figure) => ({
  figure,
  source: figure.querySelector('.diagram-source')?.textContent ?? '',
}));
let theme: DiagramTheme = themeOf(document.body.classList);
// Each drawing pass has a number; a pass started later (a theme change) makes an older one stop.
let pass = 0;

async function drawAll(): Promise<void> {
  const current = ++pass;
  mermaid.initialize({ startOnLoad: false, theme, securityLevel: 'strict' });
  for (const [index, { figure, source }] of figures.entries()) {
    const id = `diagram-${current}-${index}`;
    const drawing = await drawDiagram(mermaid, id, source);
    if (current !== pass) {
      return;
    }
    // A failed render can leave mermaid's scratch element behind.
    document.getElementById(`d${id}`)?.remove();
    figure.innerHTML = drawingHtml(drawing, source);
    figure.classList.toggle('failed', 'error' in drawing);
  }
}

new MutationObserver(() => {
  const next = themeOf(document.body.classList);
  if (next !== theme) {
    theme = next;
    void drawAll();
  }
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });

document.addEventListener('click', (event) => {
  const link = (event.target as Element | null)?.closest<HTMLElement>('a.file-link');
  if (link?.dataset.path) {
    event.preventDefault();
    vscode.postMessage({ type: 'openFile', path: link.dataset.path });
  }
});

void drawAll();
