/**
 * Test harness shared by the e2e suites: free ports, private mosquitto brokers (plain, with
 * users, with TLS), in-process aedes brokers (TCP and WebSocket), a throw-away PKI, MQTT.js /
 * mosquitto CLI client helpers, Nest testing apps with the MQTT module and a capturing logger,
 * bounded waits, random ids, a TCP proxy that injects link faults, and child processes running TypeScript fixtures. Everything started
 * here is killed when the process exits, but suites must still stop what they start in afterAll.
 */
export * from './aedes';
export * from './app';
export * from './certs';
export * from './child-app';
export * from './clients';
export * from './ids';
export * from './logging';
export * from './mosquitto';
export * from './ports';
export * from './tcp-proxy';
export {
  isRunning,
  realProcess,
  spawnTypeScript,
  terminate,
  trackChild,
  trackTempDir,
  waitForExit,
  type SpawnTypeScriptOptions,
} from './processes';
export * from './wait';
