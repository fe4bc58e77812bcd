/**
 * Tests are transpiled by SWC (no type-checking: `npm run typecheck` runs tsc over
 * tsconfig.dev.json once, which is much faster than ts-jest type-checking aws-cdk-lib per file).
 */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  snapshotSerializers: ['<rootDir>/test/support/mask-asset-hashes.js'],
  testTimeout: 30000,
  setupFiles: ['<rootDir>/test/support/quiet-env.js'],
  // every signed request the local servers receive is checked against the synthesized IAM policies
  setupFilesAfterEnv: ['<rootDir>/test/support/iam-guard.ts'],
};
