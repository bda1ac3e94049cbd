// Lets a child process run the TypeScript sources, as Jest does (same swc transform), so tests that spawn a fake do
// not depend on a fresh `npm run build`: node -r ./test/support/register-ts.cjs test/fakes/fake-mcp.server.ts
const { readFileSync } = require('node:fs');
const { transformSync } = require('@swc/core');

require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(readFileSync(filename, 'utf8'), {
    filename,
    jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  });
  module._compile(code, filename);
};
