/**
 * Two projects: fast unit specs beside their sources, and e2e suites under
 * test/ that talk to real brokers. @swc/jest compiles TypeScript, and also the
 * ESM-only packages (NestJS 12) that Jest's CommonJS runtime cannot load as is.
 */
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];
const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j|mj)s$': swc },
  transformIgnorePatterns: ['/node_modules/(?!(@nestjs|uid)/)'],
  moduleNameMapper: {
    '^nestjs-mqtt$': '<rootDir>/libs/mqtt/src/index.ts',
    '^nestjs-mqtt/(testing|health)$': '<rootDir>/libs/mqtt/src/$1/index.ts',
  },
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
};
module.exports = {
  // Jest 30 takes the timeout from the top level, not from a project.
  testTimeout: 30000,
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/*.spec.ts'],
    },
    { ...shared, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'] },
  ],
};
