/** Error texts of `nestjs-mqtt/testing`: what was wrong, and what to do. */

export const AEDES_MISSING = (reason: string): string =>
  `nestjs-mqtt/testing needs the "aedes" package for its in-process broker, and it could not be ` +
  `loaded (${reason}). Install it as a dev dependency: npm install --save-dev aedes@^0.51.0`;

export const NOT_ACKNOWLEDGED = (topic: string, clientId: string, ms: number): string =>
  `The app (client id "${clientId}") did not acknowledge the message on "${topic}" within ` +
  `${ms} ms. deliver() needs a handler subscribed to it with QoS 1 or 2 (and acks ` +
  `'after-handler', the default); for QoS 0 use publish() and settled().`;

export const NOT_SETTLED = (what: string, ms: number, seen: string[]): string =>
  `No handler settled ${what} within ${ms} ms` +
  (seen.length > 0 ? `; settled so far: ${seen.slice(-10).join(', ')}` : '; none settled yet') +
  '. Check the topic and that the handler is in the providers of the testing app.';

export const NOT_PUBLISHED = (filter: string, count: number, got: number, ms: number): string =>
  `The app published ${got} message(s) matching "${filter}" within ${ms} ms, expected at least ` +
  `${count}.`;

export const QOS_INVALID = (qos: unknown): string =>
  `QoS must be 0, 1 or 2, got ${JSON.stringify(qos)}.`;
