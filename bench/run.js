/**
 * `npm run bench`: runs bench/src/main.ts (TypeScript, compiled on the fly by
 * test/support/register-ts.js, which also maps `nestjs-mqtt` to libs/mqtt/src).
 * Kept out of `npm test`. See bench/README.md.
 */
'use strict';
require('../test/support/register-ts.js');
const { main } = require('./src/main.ts');

main(process.argv.slice(2));
