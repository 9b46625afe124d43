/**
 * For the fixture apps that run in a child process (test/fixtures/*.ts, started by
 * `spawnTypeScript`): events for the test as JSON lines on stdout, Nest's logs on stderr, and a
 * `main()` whose failure is printed and exits 1. A fixture imports this file directly, not the
 * support index, so that the child loads nothing else of the harness.
 */
import type { LoggerService } from '@nestjs/common';

/** Prints `event` as one JSON line on stdout, for the test that reads the child's output. */
export function emitEvent(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

/** A Nest logger that writes to stderr, so that stdout carries only the JSON events. */
export const stderrLogger: LoggerService = {
  log: (m: unknown) => process.stderr.write(`LOG ${String(m)}\n`),
  warn: (m: unknown) => process.stderr.write(`WARN ${String(m)}\n`),
  error: (m: unknown) => process.stderr.write(`ERROR ${String(m)}\n`),
};

/** Runs the fixture's `main`; if it fails, prints the error (with its stack) and exits 1. */
export function runMain(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    process.stderr.write(
      `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  });
}
