/**
 * Lets a child process run TypeScript fixtures and apps straight from source, the way Jest does:
 * `node -r ./test/support/register-ts.js test/fixtures/app.ts`. TypeScript is compiled with
 * @swc/core (legacy decorators + metadata), and `nestjs-mqtt` (with its `/testing` and `/health`
 * entry points) resolves to libs/mqtt/src.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');
const { transformSync } = require('@swc/core');

const libSrc = path.resolve(__dirname, '../../libs/mqtt/src');
const libEntries = {
  'nestjs-mqtt': path.join(libSrc, 'index.ts'),
  'nestjs-mqtt/testing': path.join(libSrc, 'testing/index.ts'),
  'nestjs-mqtt/health': path.join(libSrc, 'health/index.ts'),
};
const originalResolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (Object.hasOwn(libEntries, request)) return libEntries[request];
  return originalResolve.call(this, request, ...rest);
};

require.extensions['.ts'] = function (module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const { code } = transformSync(source, {
    filename,
    sourceMaps: 'inline',
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};
