// Bundles the extension and its dependencies into one file, so the .vsix needs no node_modules,
// and the documents webview's script (with mermaid) into another, which the webview loads from
// the extension's own files: nothing comes from the network.
import { build } from 'esbuild';

const common = { bundle: true, minify: true, sourcemap: false, logLevel: 'warning' };

await Promise.all([
  build({
    ...common,
    entryPoints: ['src/extension.ts'],
    outfile: 'dist/extension.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
  }),
  build({
    ...common,
    entryPoints: ['src/webview/documents.ts'],
    outfile: 'dist/webview/documents.js',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  }),
]);
