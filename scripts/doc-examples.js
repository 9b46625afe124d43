#!/usr/bin/env node
// Extracts the TypeScript examples of a Markdown file, so that a test can compile and run them
// exactly as a reader would paste them.
//
//   node scripts/doc-examples.js <file.md> [outDir]
//
// Every fenced block whose info string is `ts` or `typescript` is one example. A block whose
// first line is a comment naming a file (`// health.module.ts`) is written under that name, so
// later blocks can import it (`./health.module`); the others are `example-<n>.ts`. Prints one
// JSON array: { name, line, kind } per block, `kind` being `test` for `*.spec.ts` /
// `*.test.ts` (run with Jest) and `program` otherwise (run with Node). With `outDir`, the files
// are written there (created, emptied first).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

function extract(markdown) {
  const blocks = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*(ts|typescript)(\s.*)?$/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence] = open;
    const body = [];
    let j = i + 1;
    while (j < lines.length && !lines[j].trim().startsWith(fence))
      body.push(lines[j++].slice(indent.length));
    if (j >= lines.length) throw new Error(`unclosed ${fence}ts block at line ${i + 1}`);
    const named = /^\/\/\s*([\w.-]+\.ts)\s*$/.exec(body[0] ?? '');
    const name = named ? named[1] : `example-${blocks.length + 1}.ts`;
    if (blocks.some((b) => b.name === name))
      throw new Error(`two blocks named ${name} (line ${i + 1})`);
    blocks.push({
      name,
      line: i + 1,
      kind: /\.(spec|test)\.ts$/.test(name) ? 'test' : 'program',
      source: body.join('\n') + '\n',
    });
    i = j;
  }
  return blocks;
}

function main() {
  const [file, outDir] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node scripts/doc-examples.js <file.md> [outDir]');
    process.exit(2);
  }
  const blocks = extract(fs.readFileSync(file, 'utf8'));
  if (outDir) {
    fs.rmSync(outDir, { recursive: true, force: true });
    fs.mkdirSync(outDir, { recursive: true });
    for (const b of blocks) fs.writeFileSync(path.join(outDir, b.name), b.source);
  }
  console.log(JSON.stringify(blocks.map(({ name, line, kind }) => ({ name, line, kind }))));
}

if (require.main === module) main();
module.exports = { extract };
