import { gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

/** Writes `<file>.gz` beside every script and stylesheet, so the API serves them compressed without compressing. */
function precompress(): Plugin {
  return {
    name: 'gigachat-precompress',
    apply: 'build',
    generateBundle(_options, bundle) {
      for (const [name, output] of Object.entries(bundle)) {
        if (!/\.(js|css|svg)$/.test(name)) continue;
        const source = output.type === 'chunk' ? output.code : output.source;
        this.emitFile({ type: 'asset', fileName: `${name}.gz`, source: gzipSync(source, { level: 9 }) });
      }
    },
  };
}

// The web client: Preact + TypeScript, built into dist/web and served by the API at `/` (apps/api/src/web).
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  publicDir: 'public',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: '../../dist/web',
    emptyOutDir: true,
    target: 'es2022',
    // A strict CSP (no inline scripts or styles, no data: scripts): every asset stays a file of its own.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    cssCodeSplit: true,
    sourcemap: false,
    reportCompressedSize: true,
  },
  plugins: [precompress()],
  server: { proxy: { '/api': 'http://127.0.0.1:3000', '/health': 'http://127.0.0.1:3000' } },
});
