import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

/**
 * Writes `<file>.gz` beside every script and stylesheet, so the API serves them compressed without compressing on each
 * request. After the files are written: only then is their code final (Vite still rewrites chunks in generateBundle).
 */
function precompress(): Plugin {
  return {
    name: 'gigachat-precompress',
    apply: 'build',
    writeBundle(options, bundle) {
      for (const name of Object.keys(bundle)) {
        if (!/\.(js|css|svg)$/.test(name)) continue;
        const path = join(options.dir!, name);
        writeFileSync(`${path}.gz`, gzipSync(readFileSync(path), { level: 9 }));
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
    // No preload helper (its polyfill would be code we do not need): the lazy pages need nothing but the main chunk.
    modulePreload: false,
    cssCodeSplit: true,
    sourcemap: false,
    reportCompressedSize: true,
  },
  plugins: [precompress()],
  server: { proxy: { '/api': 'http://127.0.0.1:3000', '/health': 'http://127.0.0.1:3000' } },
});
