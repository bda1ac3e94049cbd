/** @type {import('jest').Config} */
const swc = [
  '@swc/jest',
  {
    jsc: {
      target: 'es2022',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
  },
];
// paseto 4, @noble/* and @scure/base (under otplib) are ESM-only: let swc turn them into CommonJS for Jest.
// (@otplib/* ship CommonJS builds and need nothing.)
const esmOnly = ['paseto', '@noble', '@scure'];
const common = {
  transform: { '^.+\\.(t|j|mj)s$': swc },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  // package.json "imports" points #libs/* at dist/ for Node; tests run the TypeScript sources.
  moduleNameMapper: { '^#(libs|activities)/(.*)$': '<rootDir>/$1/$2' },
  testEnvironment: 'node',
};
module.exports = {
  maxWorkers: 2,
  testTimeout: 90000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/{apps,libs,activities,workflows,bench}/**/*.spec.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/web/'],
      // The workflow bundle every worker of the run loads, made from the sources (see the file).
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      setupFilesAfterEnv: ['<rootDir>/test/support/jest-setup.ts'],
    },
    {
      ...common,
      // The web client in a real browser (Debian's Chromium via playwright-core) against the real stack.
      displayName: 'web',
      testMatch: ['<rootDir>/test/web/**/*.e2e-spec.ts'],
      // The integration setup (the workflow bundle) plus a build of dist/web when it is missing or stale.
      globalSetup: '<rootDir>/test/web/support/global-setup.ts',
      setupFilesAfterEnv: ['<rootDir>/test/support/jest-setup.ts'],
    },
  ],
};
