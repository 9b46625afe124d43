/**
 * The demo's live dashboard, driven in headless Chromium (playwright-core): the demo runs as a
 * child process against a private Mosquitto; readings published with mosquitto_pub change the
 * numbers on the page with no reload (server-sent events); the broker is SIGKILLed and the page
 * shows the client reconnecting, then connected again once the broker is back. The last step
 * writes the screenshot the README shows when DASHBOARD_SCREENSHOT names where (e.g.
 * `DASHBOARD_SCREENSHOT=docs/dashboard.png`), and a temp file otherwise, leaving the tree clean.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import {
  describeWithMosquitto,
  mosquittoPub,
  spawnTypeScript,
  startMosquitto,
  terminate,
  trackTempDir,
  until,
  type MosquittoBroker,
} from './support';
import { CHROMIUM_ARGS, CHROMIUM_PATH, describeWithChromium } from './support/chromium';

const SCREENSHOT = process.env.DASHBOARD_SCREENSHOT
  ? resolve(process.env.DASHBOARD_SCREENSHOT)
  : join(tmpdir(), `nestjs-mqtt-dashboard-${process.pid}.png`);

/** The page's DOM, as the functions run in the browser see it (the project has no DOM types). */
declare const document: {
  querySelector(selector: string): { textContent: string | null } | null;
};

/** Resolves with the text of `selector` once it equals `want` (a string) or matches it. */
async function text(
  page: Page,
  selector: string,
  want: string | RegExp,
  timeout = 10_000,
): Promise<string> {
  const wanted: { s?: string; r?: string; f?: string } =
    typeof want === 'string' ? { s: want } : { r: want.source, f: want.flags };
  await page
    .waitForFunction(
      ({ sel, w }) => {
        const t = document.querySelector(sel)?.textContent?.trim();
        if (t === undefined) return false;
        return w.s !== undefined ? t === w.s : new RegExp(w.r ?? '', w.f).test(t);
      },
      { sel: selector, w: wanted },
      { timeout },
    )
    .catch(async (error: Error) => {
      const seen = await page
        .locator(selector)
        .first()
        .textContent()
        .catch(() => null);
      throw new Error(`${selector} never showed ${String(want)} (last: ${seen}): ${error.message}`);
    });
  return (await page.locator(selector).first().textContent())?.trim() ?? '';
}

const device = (id: string, field: string): string =>
  `[data-testid=devices] tr[data-device="${id}"] [data-field=${field}]`;
const handler = (name: string, field: string): string =>
  `[data-testid=handlers] tr[data-handler="${name}"] [data-field=${field}]`;

describeWithChromium('demo dashboard in Chromium', () => {
  describeWithMosquitto('against Mosquitto, with the broker killed and restarted', () => {
    let mosquitto: MosquittoBroker;
    let demo: ChildProcess | undefined;
    let browser: Browser | undefined;
    let output = '';

    beforeAll(async () => {
      mosquitto = await startMosquitto();
    });
    afterAll(async () => {
      await browser?.close();
      if (demo) await terminate(demo);
      await mosquitto?.stop();
    });

    it('shows the connection, live telemetry, alerts and handler counts, and the reconnection', async () => {
      const cwd = mkdtempSync(join(tmpdir(), 'nestjs-mqtt-dashboard-'));
      trackTempDir(cwd);
      const base = Object.fromEntries(
        Object.entries(process.env).filter(([k]) => !/^(MQTT|DEMO)_/.test(k)),
      );
      demo = spawnTypeScript('apps/demo/src/main.ts', {
        cwd,
        env: {
          ...base,
          NO_COLOR: '1',
          MQTT_BROKER_URL: '127.0.0.1',
          MQTT_BROKER_PORT: String(mosquitto.port),
          MQTT_CLIENT_ID: 'dashboard-e2e',
          DEMO_DASHBOARD_PORT: '0',
          DEMO_SIMULATOR: 'off',
        },
      });
      demo.stdout?.setEncoding('utf8').on('data', (c: string) => (output += c));
      demo.stderr?.setEncoding('utf8').on('data', (c: string) => (output += c));
      const [, url] = await until(
        'the dashboard address in the demo log',
        () => /\[Dashboard\] Dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output) ?? undefined,
        15_000,
        () => output,
      );

      browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS] });
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await page.goto(url);

      // Connection and broker, and every handler listed before any message, at zero.
      await text(page, '[data-testid=state]', 'connected');
      await text(page, '[data-testid=broker]', `mqtt://127.0.0.1:${mosquitto.port}`);
      for (const name of [
        'TelemetryHandler.onTemperature',
        'TelemetryHandler.onAlert',
        'TelemetryHandler.getStats',
        'AlertLogHandler.onAnyAlert',
      ]) {
        await text(page, handler(name, 'handled'), '0');
        await text(page, handler(name, 'failed'), '0');
      }
      // The AsyncAPI document, rendered: its channels with their addresses.
      await page.waitForSelector(
        '[data-testid=asyncapi] .channel[data-address="sensors/{deviceId}/temp"]',
      );
      const addresses = await page
        .locator('[data-testid=asyncapi] .channel')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-address')));
      expect(addresses).toEqual([
        'sensors/{deviceId}/temp',
        'alerts/{deviceId}',
        'demo/stats/get',
        'alerts/{rest}',
        'demo/stats',
      ]);

      // Readings from an outside client: the numbers change without a reload.
      const pub = (topic: string, body: object): Promise<void> =>
        mosquittoPub([
          '-h',
          '127.0.0.1',
          '-p',
          String(mosquitto.port),
          '-q',
          '1',
          '-t',
          topic,
          '-m',
          JSON.stringify(body),
        ]);
      const at = (s: number): string => new Date(Date.UTC(2026, 0, 1, 12, 0, s)).toISOString();
      await pub('sensors/boiler-7/temp', { celsius: 21.5, at: at(1) });
      await pub('sensors/boiler-7/temp', { celsius: 22.5, at: at(2) });
      await pub('sensors/boiler-7/temp', { celsius: 35, at: at(3) });
      await pub('sensors/cellar-2/temp', { celsius: 12.25, at: at(4) });
      await text(page, device('boiler-7', 'readings'), '3');
      await text(page, device('boiler-7', 'last'), '35');
      await text(page, device('boiler-7', 'avg'), '26.3');
      await text(page, device('cellar-2', 'readings'), '1');
      // 35 °C is above the default 30 °C threshold: one alert, through both alert handlers.
      await text(page, device('boiler-7', 'alerts'), '1');
      await text(
        page,
        '[data-testid=alerts] li[data-alert-device="boiler-7"]',
        /^boiler-7 35 °C above 30 °C/,
      );
      await text(page, handler('TelemetryHandler.onTemperature', 'handled'), '4');
      await text(page, handler('TelemetryHandler.onAlert', 'handled'), '1');
      await text(page, handler('AlertLogHandler.onAnyAlert', 'handled'), '1');

      // A broken reading fails validation: counted as failed, not handled.
      await pub('sensors/cellar-2/temp', { celsius: 'hot' });
      await text(page, handler('TelemetryHandler.onTemperature', 'failed'), '1');
      expect(await text(page, handler('TelemetryHandler.onTemperature', 'handled'), '4')).toBe('4');
      expect(await text(page, device('cellar-2', 'readings'), '1')).toBe('1');

      // The broker crashes: the page shows the client reconnecting, then connected once it is back.
      await mosquitto.kill('SIGKILL');
      await text(page, '[data-testid=state]', 'reconnecting');
      await text(page, '[data-testid=attempts]', /^[1-9]\d*$/);
      await mosquitto.restart();
      await text(page, '[data-testid=state]', 'connected', 15_000);
      await text(page, '[data-testid=attempts]', '0');
      // Subscriptions are back: a new reading shows up.
      await pub('sensors/cellar-2/temp', { celsius: 13.75, at: at(5) });
      await text(page, device('cellar-2', 'readings'), '2');
      await text(page, device('cellar-2', 'last'), '13.75');
      await text(page, handler('TelemetryHandler.onTemperature', 'handled'), '5');

      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(pageErrors).toEqual([]);
    }, 60_000);
  });
});
