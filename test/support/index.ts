/**
 * Test harness shared by the e2e suites: free ports, private mosquitto brokers (plain, with
 * users, with TLS), in-process aedes brokers (TCP and WebSocket), a throw-away PKI, and MQTT.js /
 * mosquitto CLI client helpers. Everything started here is killed when the process exits, but
 * suites must still stop what they start in afterAll.
 */
export * from './aedes';
export * from './certs';
export * from './clients';
export * from './mosquitto';
export * from './ports';
export { isRunning, terminate, trackChild, trackTempDir, waitForExit } from './processes';
