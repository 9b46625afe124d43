import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * The dependency rules of ARCHITECTURE.md, checked on the sources: a rule broken here is a
 * design change, to be made on purpose (and written down there), not by accident.
 */
const ROOT = __dirname;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') && !name.endsWith('.spec.ts') ? [path] : [];
  });
}

/** The module specifiers a file imports at run time (type-only imports left out). */
function runtimeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^import\s+(?!type\b)[^;]*?from\s+'([^']+)';/gms)].map((m) => m[1]);
}

/** The code of a file without its comments (JSDoc may name what the code must not use). */
function code(file: string): string {
  return readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
}

const files = sources(ROOT).map((path) => ({
  path: relative(ROOT, path),
  imports: runtimeImports(path),
  text: code(path),
  lines: readFileSync(path, 'utf8').split('\n').length,
}));
const under = (dir: string) => files.filter((f) => f.path.startsWith(`${dir}/`));

describe('architecture rules', () => {
  it('routing/ depends on no other layer and not on Nest', () => {
    for (const f of under('routing')) {
      expect({
        file: f.path,
        bad: f.imports.filter((i) => /connection|dispatch|explorer|@nestjs/.test(i)),
      }).toEqual({ file: f.path, bad: [] });
    }
  });

  it('dispatch/ depends on neither the connection layer nor the explorer', () => {
    for (const f of under('dispatch')) {
      expect({
        file: f.path,
        bad: f.imports.filter((i) => /connection\/|explorer\/|^mqtt$/.test(i)),
      }).toEqual({ file: f.path, bad: [] });
    }
  });

  it('only the connection layer imports MQTT.js at run time', () => {
    const users = files.filter((f) => f.imports.includes('mqtt')).map((f) => f.path);
    expect(users.every((p) => p.startsWith('connection/'))).toBe(true);
  });

  it('only mqtt-client.internals.ts touches MQTT.js private members', () => {
    const privateUse =
      /\b(_sendPacket|_releaseIncomingQoS2Publish|incomingStore|outgoingStore|streamBuilder|_clearReconnect|_setupReconnect|reconnectTimer)\b/;
    const users = files.filter((f) => privateUse.test(f.text)).map((f) => f.path);
    expect(users).toEqual(['connection/mqtt-client.internals.ts']);
  });

  it("only nest.internals.ts touches Nest's private context creators and consumers", () => {
    const users = files
      .filter((f) =>
        /\b(guards|interceptors|pipes|filters)(ContextCreator|Consumer)\b/.test(f.text),
      )
      .map((f) => f.path);
    expect(users).toEqual(['explorer/nest.internals.ts']);
  });

  it("only class-validator.internals.ts touches class-validator's constraint metadata", () => {
    const users = files
      .filter((f) => /\b(getTargetValidatorConstraints|ConstraintMetadata)\b/.test(f.text))
      .map((f) => f.path);
    expect(users).toEqual(['config/class-validator.internals.ts']);
  });

  it('no source file is longer than 350 lines', () => {
    const long = files.filter((f) => f.lines > 350).map((f) => f.path);
    expect(long).toEqual([]);
  });
});
