#!/usr/bin/env node
// `prepack` of libs/mqtt (run by npm pack / npm publish in that directory): builds the package
// from a clean dist/, copies the repository's LICENSE in, and fails loudly when an entry point
// or a source map's sources are missing, so an unbuilt or half-built tree is never packed.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const lib = path.resolve(__dirname, '../libs/mqtt');
const fail = (message) => {
  console.error(`nestjs-mqtt prepack: ${message}`);
  process.exit(1);
};

let tsc;
try {
  tsc = require.resolve('typescript/bin/tsc', { paths: [lib] });
} catch {
  fail('TypeScript is not installed; run `npm ci` at the repository root, then pack again.');
}

fs.rmSync(path.join(lib, 'dist'), { recursive: true, force: true });
try {
  execFileSync(process.execPath, [tsc, '-p', path.join(lib, 'tsconfig.lib.json')], {
    stdio: 'inherit',
  });
} catch {
  fail('the build (tsc -p libs/mqtt/tsconfig.lib.json) failed; nothing was packed.');
}
fs.copyFileSync(path.resolve(lib, '../../LICENSE'), path.join(lib, 'LICENSE'));

const pkg = JSON.parse(fs.readFileSync(path.join(lib, 'package.json'), 'utf8'));
for (const [subpath, target] of Object.entries(pkg.exports)) {
  const files = typeof target === 'string' ? [target] : Object.values(target);
  for (const file of files) {
    if (!fs.existsSync(path.join(lib, file)))
      fail(`"${subpath}" exports ${file}, which was not built.`);
  }
}

// Source maps must carry their sources (src/ is not shipped).
const walk = (dir) =>
  fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
const maps = walk(path.join(lib, 'dist')).filter((f) => f.endsWith('.js.map'));
if (maps.length === 0) fail('no source maps were built.');
for (const map of maps) {
  const { sources = [], sourcesContent = [] } = JSON.parse(fs.readFileSync(map, 'utf8'));
  if (
    sources.length === 0 ||
    sourcesContent.length !== sources.length ||
    sourcesContent.some((s) => typeof s !== 'string')
  ) {
    fail(`${path.relative(lib, map)} does not embed its sources (set inlineSources).`);
  }
}
console.log(
  `nestjs-mqtt prepack: built ${maps.length} modules with embedded sources, LICENSE copied.`,
);
