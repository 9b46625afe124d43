import { existsSync } from 'node:fs';

/** Debian's Chromium (`apt-get install chromium`); CI installs it (.ci/install.d/chromium.sh). */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Flags for a headless Chromium as root in a container, with nothing phoning home. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * Like `describe`, for suites that drive Chromium. When /usr/bin/chromium is missing and
 * `CI=true`, it registers one failing test (CI must not silently skip browser tests); otherwise
 * the suite is skipped with one console.warn line saying why and how to install it.
 */
export function describeWithChromium(name: string, fn: () => void): void {
  if (existsSync(CHROMIUM_PATH)) {
    describe(name, fn);
    return;
  }
  const install = 'install it with: apt-get install -y chromium';
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('requires chromium', () => {
        throw new Error(`${CHROMIUM_PATH} is required under CI (CI=true) but missing; ${install}`);
      });
    });
    return;
  }
  console.warn(`Skipping "${name}": ${CHROMIUM_PATH} not found (${install}).`);
  describe.skip(name, fn);
}
