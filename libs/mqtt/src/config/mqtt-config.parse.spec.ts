import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { inspect } from 'node:util';
import { MqttConfigError } from '../errors/mqtt-config.error';
import type { MqttConfig } from '../interfaces/mqtt-config.interface';
import { parseMqttConfig, validateMqttConfig } from './mqtt-config.parse';

type Input = Record<string, unknown>;

const parse = (input: Input, checkFiles = false) => parseMqttConfig(input, { checkFiles });

function errorOf(run: () => unknown): MqttConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(MqttConfigError);
    return error as MqttConfigError;
  }
  throw new Error('expected an MqttConfigError, but nothing was thrown');
}

/** A short title for a test value. */
function label(value: unknown): string {
  if (Buffer.isBuffer(value)) return `<Buffer of ${value.length} bytes>`;
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 40 ? `${text.slice(0, 20)}... (${text.length} chars)` : text;
}

const TLS_FILES = { MQTT_TLS_CERTFILE: '/c.pem', MQTT_TLS_KEYFILE: '/k.pem' };

describe('parseMqttConfig', () => {
  describe('defaults', () => {
    it('gives Flask-MQTT defaults for an empty input', () => {
      const { config, warnings } = parse({});
      expect(config).toEqual({
        clientId: expect.stringMatching(/^nestjs-mqtt-[0-9a-f]{12}$/),
        clientIdGenerated: true,
        protocol: 'mqtt',
        host: 'localhost',
        port: 1883,
        wsPath: '/mqtt',
        keepalive: 60,
        tls: { enabled: false, certReqs: 'CERT_REQUIRED', insecure: false },
        protocolVersion: 4,
        cleanSession: true,
        sessionExpiry: 0,
        connectionTimeout: 5000,
        reconnectPeriod: 1000,
        connectInBackground: false,
        shutdownTimeout: 10000,
        reconnectMaxPeriod: 30000,
        handlerTimeout: 30000,
        qos0QueueLimit: 1000,
        offlineQueueLimit: 1000,
        publishTimeout: 0,
      } satisfies MqttConfig);
      expect(warnings).toEqual([]);
    });

    it('treats empty, blank and null values as unset (env files often have KEY=)', () => {
      const keys = [
        'MQTT_CLIENT_ID',
        'MQTT_BROKER_URL',
        'MQTT_BROKER_PORT',
        'MQTT_USERNAME',
        'MQTT_PASSWORD',
        'MQTT_KEEPALIVE',
        'MQTT_TLS_ENABLED',
        'MQTT_TLS_CA_CERTS',
        'MQTT_TLS_CERTFILE',
        'MQTT_TLS_KEYFILE',
        'MQTT_TLS_CERT_REQS',
        'MQTT_TLS_VERSION',
        'MQTT_TLS_CIPHERS',
        'MQTT_TLS_INSECURE',
        'MQTT_LAST_WILL_TOPIC',
        'MQTT_LAST_WILL_MESSAGE',
        'MQTT_LAST_WILL_QOS',
        'MQTT_LAST_WILL_RETAIN',
        'MQTT_TRANSPORT',
        'MQTT_PROTOCOL_VERSION',
        'MQTT_CLEAN_SESSION',
        'MQTT_CONNECTION_TIMEOUT',
        'MQTT_RECONNECT_PERIOD',
        'MQTT_WS_PATH',
        'MQTT_CONNECT_IN_BACKGROUND',
        'MQTT_SHARED_GROUP',
        'MQTT_DEAD_LETTER_TOPIC',
        'MQTT_SHUTDOWN_TIMEOUT',
      ];
      for (const blank of ['', '   ', ' \t\n', null, undefined]) {
        const input = Object.fromEntries(keys.map((key) => [key, blank]));
        const { config, warnings } = parse(input);
        expect({ ...config, clientId: 'x' }).toEqual({ ...parse({}).config, clientId: 'x' });
        expect(warnings).toEqual([]);
      }
    });

    it('ignores keys that do not start with MQTT_ (the input may be all of process.env)', () => {
      const { config, warnings } = parse({
        PATH: '/usr/bin',
        HOME: '/root',
        mqtt_broker_url: 'elsewhere',
        BROKER_PORT: 'abc',
        NODE_ENV: 'production',
      });
      expect(config.host).toBe('localhost');
      expect(warnings).toEqual([]);
    });
  });

  describe('accepted values, key by key', () => {
    const cases: Array<[string, Input, (c: MqttConfig) => unknown, unknown]> = [
      [
        'client id',
        { MQTT_CLIENT_ID: 'sensor-7' },
        (c) => [c.clientId, c.clientIdGenerated],
        ['sensor-7', false],
      ],
      ['client id kept as is', { MQTT_CLIENT_ID: ' a b ' }, (c) => c.clientId, ' a b '],
      [
        'client id of 65535 bytes',
        { MQTT_CLIENT_ID: 'x'.repeat(65535) },
        (c) => c.clientId.length,
        65535,
      ],
      ['port string', { MQTT_BROKER_PORT: '8884' }, (c) => c.port, 8884],
      ['port trimmed', { MQTT_BROKER_PORT: ' 1884 ' }, (c) => c.port, 1884],
      ['port number', { MQTT_BROKER_PORT: 8884 }, (c) => c.port, 8884],
      ['port 1', { MQTT_BROKER_PORT: '1' }, (c) => c.port, 1],
      ['port 65535', { MQTT_BROKER_PORT: '65535' }, (c) => c.port, 65535],
      ['port with leading zero', { MQTT_BROKER_PORT: '01883' }, (c) => c.port, 1883],
      ['username', { MQTT_USERNAME: 'alice' }, (c) => c.username, 'alice'],
      ['username kept as is', { MQTT_USERNAME: ' alice ' }, (c) => c.username, ' alice '],
      [
        'user and password',
        { MQTT_USERNAME: 'a', MQTT_PASSWORD: ' p w ' },
        (c) => c.password,
        ' p w ',
      ],
      ['keepalive 0', { MQTT_KEEPALIVE: '0' }, (c) => c.keepalive, 0],
      ['keepalive 65535', { MQTT_KEEPALIVE: 65535 }, (c) => c.keepalive, 65535],
      ['will topic', { MQTT_LAST_WILL_TOPIC: 'status/app' }, (c) => c.will?.topic, 'status/app'],
      [
        'will topic with spaces kept',
        { MQTT_LAST_WILL_TOPIC: ' a b/c ' },
        (c) => c.will?.topic,
        ' a b/c ',
      ],
      ['will topic $ prefix', { MQTT_LAST_WILL_TOPIC: '$app/x' }, (c) => c.will?.topic, '$app/x'],
      [
        'will qos "1"',
        { MQTT_LAST_WILL_TOPIC: 't', MQTT_LAST_WILL_QOS: '1' },
        (c) => c.will?.qos,
        1,
      ],
      ['will qos 2', { MQTT_LAST_WILL_TOPIC: 't', MQTT_LAST_WILL_QOS: 2 }, (c) => c.will?.qos, 2],
      [
        'will retain yes',
        { MQTT_LAST_WILL_TOPIC: 't', MQTT_LAST_WILL_RETAIN: 'yes' },
        (c) => c.will?.retain,
        true,
      ],
      ['transport websockets', { MQTT_TRANSPORT: 'websockets' }, (c) => c.protocol, 'ws'],
      ['transport WebSockets', { MQTT_TRANSPORT: ' WebSockets ' }, (c) => c.protocol, 'ws'],
      ['transport TCP', { MQTT_TRANSPORT: 'TCP' }, (c) => c.protocol, 'mqtt'],
      [
        'MQTTv31',
        { MQTT_PROTOCOL_VERSION: 'MQTTv31', MQTT_CLIENT_ID: 'a' },
        (c) => c.protocolVersion,
        3,
      ],
      ['mqttv311', { MQTT_PROTOCOL_VERSION: 'mqttv311' }, (c) => c.protocolVersion, 4],
      ['MQTTV5', { MQTT_PROTOCOL_VERSION: 'MQTTV5' }, (c) => c.protocolVersion, 5],
      ['version 3', { MQTT_PROTOCOL_VERSION: 3, MQTT_CLIENT_ID: 'a' }, (c) => c.protocolVersion, 3],
      ['version "4"', { MQTT_PROTOCOL_VERSION: '4' }, (c) => c.protocolVersion, 4],
      ['version " 5 "', { MQTT_PROTOCOL_VERSION: ' 5 ' }, (c) => c.protocolVersion, 5],
      [
        'clean session false',
        { MQTT_CLEAN_SESSION: 'false', MQTT_CLIENT_ID: 'a' },
        (c) => c.cleanSession,
        false,
      ],
      [
        'clean session "0"',
        { MQTT_CLEAN_SESSION: '0', MQTT_CLIENT_ID: 'a' },
        (c) => c.cleanSession,
        false,
      ],
      ['clean session true', { MQTT_CLEAN_SESSION: true }, (c) => c.cleanSession, true],
      [
        'connection timeout 1 s',
        { MQTT_CONNECTION_TIMEOUT: '1' },
        (c) => c.connectionTimeout,
        1000,
      ],
      [
        'connection timeout 3600 s',
        { MQTT_CONNECTION_TIMEOUT: 3600 },
        (c) => c.connectionTimeout,
        3600000,
      ],
      ['reconnect 0 (off)', { MQTT_RECONNECT_PERIOD: '0' }, (c) => c.reconnectPeriod, 0],
      ['reconnect 86400 s', { MQTT_RECONNECT_PERIOD: '86400' }, (c) => c.reconnectPeriod, 86400000],
      ['ws path', { MQTT_TRANSPORT: 'websockets', MQTT_WS_PATH: ' /ws ' }, (c) => c.wsPath, '/ws'],
      [
        'ws path with query',
        { MQTT_TRANSPORT: 'websockets', MQTT_WS_PATH: '/ws?x=1' },
        (c) => c.wsPath,
        '/ws?x=1',
      ],
      ['background', { MQTT_CONNECT_IN_BACKGROUND: 'TRUE' }, (c) => c.connectInBackground, true],
      ['shared group', { MQTT_SHARED_GROUP: 'workers-1' }, (c) => c.sharedGroup, 'workers-1'],
      [
        'dead letter topic',
        { MQTT_DEAD_LETTER_TOPIC: 'dlq/orders' },
        (c) => c.deadLetterTopic,
        'dlq/orders',
      ],
      ['shutdown 0', { MQTT_SHUTDOWN_TIMEOUT: '0' }, (c) => c.shutdownTimeout, 0],
      ['shutdown 3600', { MQTT_SHUTDOWN_TIMEOUT: '3600' }, (c) => c.shutdownTimeout, 3600000],
    ];
    it.each(cases)('%s', (_name, input, pick, expected) => {
      expect(pick(parse(input).config)).toEqual(expected);
    });

    const booleans: Array<[unknown, boolean]> = [
      ['true', true],
      ['TRUE', true],
      [' True ', true],
      ['1', true],
      ['yes', true],
      ['YES', true],
      [true, true],
      ['false', false],
      ['FALSE', false],
      [' False ', false],
      ['0', false],
      ['no', false],
      ['No', false],
      [false, false],
    ];
    it.each(booleans)('reads the boolean %p as %p (and never "false" as true)', (raw, expected) => {
      const input = {
        MQTT_TLS_ENABLED: raw,
        MQTT_TLS_INSECURE: raw,
        MQTT_CLEAN_SESSION: raw,
        MQTT_CONNECT_IN_BACKGROUND: raw,
        MQTT_LAST_WILL_TOPIC: 't',
        MQTT_LAST_WILL_RETAIN: raw,
        MQTT_CLIENT_ID: 'c',
        MQTT_BROKER_PORT: '8883',
      };
      const { config } = parse(input);
      expect(config.tls.enabled).toBe(expected);
      expect(config.tls.insecure).toBe(expected);
      expect(config.cleanSession).toBe(expected);
      expect(config.connectInBackground).toBe(expected);
      expect(config.will?.retain).toBe(expected);
    });

    const certReqs: Array<[unknown, string]> = [
      ['CERT_REQUIRED', 'CERT_REQUIRED'],
      ['cert_required', 'CERT_REQUIRED'],
      ['ssl.CERT_REQUIRED', 'CERT_REQUIRED'],
      ['2', 'CERT_REQUIRED'],
      [2, 'CERT_REQUIRED'],
      ['CERT_OPTIONAL', 'CERT_OPTIONAL'],
      ['SSL.cert_optional', 'CERT_OPTIONAL'],
      [1, 'CERT_OPTIONAL'],
      ['CERT_NONE', 'CERT_NONE'],
      [' ssl.CERT_NONE ', 'CERT_NONE'],
      ['0', 'CERT_NONE'],
      [0, 'CERT_NONE'],
    ];
    it.each(certReqs)('reads MQTT_TLS_CERT_REQS %p as %s', (raw, expected) => {
      const { config } = parse({ MQTT_BROKER_URL: 'mqtts://b', MQTT_TLS_CERT_REQS: raw });
      expect(config.tls.certReqs).toBe(expected);
    });

    const tlsVersions: Array<[string, string | undefined]> = [
      ['TLSv1.2', 'TLSv1.2'],
      ['tlsv1.2', 'TLSv1.2'],
      ['TLSv1.3', 'TLSv1.3'],
      ['PROTOCOL_TLSv1_2', 'TLSv1.2'],
      ['ssl.PROTOCOL_TLSv1_2', 'TLSv1.2'],
      ['ssl.PROTOCOL_TLSv1_3', 'TLSv1.3'],
      ['PROTOCOL_TLSv1_1', 'TLSv1.1'],
      ['TLSv1.1', 'TLSv1.1'],
      ['PROTOCOL_TLSv1', 'TLSv1'],
      ['TLSv1', 'TLSv1'],
      ['TLSv1.0', 'TLSv1'],
      ['PROTOCOL_TLS', undefined],
      ['ssl.PROTOCOL_TLS_CLIENT', undefined],
      ['TLS', undefined],
      ['PROTOCOL_SSLv23', undefined],
    ];
    it.each(tlsVersions)('reads MQTT_TLS_VERSION %p as %p', (raw, expected) => {
      const { config } = parse({ MQTT_BROKER_URL: 'mqtts://b', MQTT_TLS_VERSION: raw });
      expect(config.tls.version).toBe(expected);
    });

    it('reads MQTT_TLS_CIPHERS trimmed', () => {
      const { config } = parse({
        MQTT_BROKER_URL: 'mqtts://b',
        MQTT_TLS_CIPHERS: ' ECDHE-RSA-AES128-GCM-SHA256 ',
      });
      expect(config.tls.ciphers).toBe('ECDHE-RSA-AES128-GCM-SHA256');
    });
  });

  describe('rejected values, key by key', () => {
    const cases: Array<[string, unknown, string]> = [
      ['MQTT_CLIENT_ID', 12, 'MQTT_CLIENT_ID must be a string, got 12.'],
      [
        'MQTT_CLIENT_ID',
        'é'.repeat(40000),
        'MQTT_CLIENT_ID is 80000 bytes long in UTF-8, but MQTT allows at most 65535 bytes',
      ],
      ['MQTT_BROKER_URL', 42, 'MQTT_BROKER_URL must be a string, got 42.'],
      [
        'MQTT_BROKER_PORT',
        'abc',
        'MQTT_BROKER_PORT must be a whole number from 1 to 65535, got "abc".',
      ],
      ['MQTT_BROKER_PORT', '1.5', 'got "1.5".'],
      ['MQTT_BROKER_PORT', '1e3', 'got "1e3".'],
      ['MQTT_BROKER_PORT', '0x10', 'got "0x10".'],
      ['MQTT_BROKER_PORT', '0', 'from 1 to 65535, got "0".'],
      ['MQTT_BROKER_PORT', '65536', 'got "65536".'],
      ['MQTT_BROKER_PORT', '-1', 'got "-1".'],
      ['MQTT_BROKER_PORT', '+80', 'got "+80".'],
      ['MQTT_BROKER_PORT', '8 0', 'got "8 0".'],
      ['MQTT_BROKER_PORT', 1.5, 'got 1.5.'],
      ['MQTT_BROKER_PORT', Number.NaN, 'got NaN.'],
      ['MQTT_BROKER_PORT', true, 'got true.'],
      ['MQTT_USERNAME', 7, 'MQTT_USERNAME must be a string, got 7.'],
      [
        'MQTT_KEEPALIVE',
        '65536',
        'MQTT_KEEPALIVE must be a whole number from 0 to 65535, got "65536".',
      ],
      ['MQTT_KEEPALIVE', 'sixty', 'got "sixty".'],
      [
        'MQTT_TLS_ENABLED',
        'maybe',
        'MQTT_TLS_ENABLED must be true or false (1/0 and yes/no are accepted too), got "maybe".',
      ],
      ['MQTT_TLS_ENABLED', 'on', 'got "on".'],
      ['MQTT_TLS_ENABLED', 1, 'got 1.'],
      ['MQTT_TLS_CA_CERTS', 5, 'MQTT_TLS_CA_CERTS must be a string, got 5.'],
      [
        'MQTT_TLS_CERT_REQS',
        'CERT_SOMETIMES',
        'MQTT_TLS_CERT_REQS must be CERT_REQUIRED, CERT_OPTIONAL or CERT_NONE',
      ],
      ['MQTT_TLS_CERT_REQS', '3', 'got "3".'],
      ['MQTT_TLS_CERT_REQS', 'required', 'got "required".'],
      [
        'MQTT_TLS_VERSION',
        'TLSv1.4',
        'MQTT_TLS_VERSION must be TLSv1.2, TLSv1.3, TLSv1.1 or TLSv1',
      ],
      ['MQTT_TLS_VERSION', 'tls1.2', 'got "tls1.2".'],
      ['MQTT_TLS_VERSION', 'SSLv3', 'an SSL version that is broken and that Node does not support'],
      ['MQTT_TLS_VERSION', 'ssl.PROTOCOL_SSLv2', 'asks for "ssl.PROTOCOL_SSLv2"'],
      ['MQTT_TLS_VERSION', 1.2, 'got 1.2.'],
      ['MQTT_TLS_CIPHERS', 123, 'MQTT_TLS_CIPHERS must be a string, got 123.'],
      ['MQTT_TLS_INSECURE', 'sure', 'MQTT_TLS_INSECURE must be true or false'],
      [
        'MQTT_LAST_WILL_TOPIC',
        'a/+/b',
        'MQTT_LAST_WILL_TOPIC must be a topic name without the wildcards + and #, got "a/+/b".',
      ],
      ['MQTT_LAST_WILL_TOPIC', 'a/#', 'got "a/#".'],
      [
        'MQTT_LAST_WILL_TOPIC',
        'a\u0000b',
        'MQTT_LAST_WILL_TOPIC must not contain the NUL character (U+0000), got "a\\u0000b".',
      ],
      ['MQTT_LAST_WILL_TOPIC', 42, 'MQTT_LAST_WILL_TOPIC must be a string, got 42.'],
      [
        'MQTT_LAST_WILL_MESSAGE',
        { a: 1 },
        'MQTT_LAST_WILL_MESSAGE must be a string, a finite number or a Buffer, got an object.',
      ],
      ['MQTT_LAST_WILL_MESSAGE', Number.POSITIVE_INFINITY, 'got Infinity.'],
      ['MQTT_LAST_WILL_MESSAGE', true, 'got true.'],
      [
        'MQTT_LAST_WILL_MESSAGE',
        Buffer.alloc(65536),
        'MQTT_LAST_WILL_MESSAGE is 65536 bytes long in UTF-8, but MQTT allows at most 65535 bytes, got a Buffer of 65536 bytes.',
      ],
      [
        'MQTT_LAST_WILL_QOS',
        '3',
        'MQTT_LAST_WILL_QOS must be a whole number from 0 to 2, got "3".',
      ],
      ['MQTT_LAST_WILL_QOS', '1.0', 'got "1.0".'],
      ['MQTT_LAST_WILL_RETAIN', 'y', 'MQTT_LAST_WILL_RETAIN must be true or false'],
      ['MQTT_TRANSPORT', 'ws', 'MQTT_TRANSPORT must be "tcp" or "websockets", got "ws".'],
      ['MQTT_TRANSPORT', 'websocket', 'got "websocket".'],
      ['MQTT_TRANSPORT', 'udp', 'got "udp".'],
      [
        'MQTT_PROTOCOL_VERSION',
        'MQTTv50',
        'MQTT_PROTOCOL_VERSION must be MQTTv31, MQTTv311 or MQTTv5 (or 3, 4 or 5), got "MQTTv50".',
      ],
      ['MQTT_PROTOCOL_VERSION', 'MQTTv3', 'got "MQTTv3".'],
      ['MQTT_PROTOCOL_VERSION', '6', 'got "6".'],
      ['MQTT_PROTOCOL_VERSION', 2, 'got 2.'],
      ['MQTT_PROTOCOL_VERSION', 'v5', 'got "v5".'],
      ['MQTT_CLEAN_SESSION', 'nope', 'MQTT_CLEAN_SESSION must be true or false'],
      [
        'MQTT_CONNECTION_TIMEOUT',
        '0',
        'MQTT_CONNECTION_TIMEOUT must be a whole number from 1 to 3600, got "0".',
      ],
      ['MQTT_CONNECTION_TIMEOUT', '3601', 'got "3601".'],
      [
        'MQTT_RECONNECT_PERIOD',
        '86401',
        'MQTT_RECONNECT_PERIOD must be a whole number from 0 to 86400, got "86401".',
      ],
      ['MQTT_RECONNECT_PERIOD', '-5', 'got "-5".'],
      [
        'MQTT_WS_PATH',
        'mqtt',
        'MQTT_WS_PATH must start with "/" and contain no white space, got "mqtt".',
      ],
      ['MQTT_WS_PATH', '/my path', 'got "/my path".'],
      ['MQTT_CONNECT_IN_BACKGROUND', 'later', 'MQTT_CONNECT_IN_BACKGROUND must be true or false'],
      [
        'MQTT_SHARED_GROUP',
        'a/b',
        'MQTT_SHARED_GROUP must be a group name without /, + or #, got "a/b".',
      ],
      ['MQTT_SHARED_GROUP', 'g+', 'got "g+".'],
      ['MQTT_SHARED_GROUP', 'g#', 'got "g#".'],
      [
        'MQTT_DEAD_LETTER_TOPIC',
        'dlq/#',
        'MQTT_DEAD_LETTER_TOPIC must be a topic name without the wildcards + and #, got "dlq/#".',
      ],
      [
        'MQTT_SHUTDOWN_TIMEOUT',
        '3601',
        'MQTT_SHUTDOWN_TIMEOUT must be a whole number from 0 to 3600, got "3601".',
      ],
      ['MQTT_SHUTDOWN_TIMEOUT', '1.5', 'got "1.5".'],
    ];
    it.each(cases.map(([key, value, expected]) => [key, label(value), value, expected]))(
      '%s=%s is an error',
      (key, _label, value, expected) => {
        const error = errorOf(() => parse({ [key]: value }));
        expect(error.issues).toHaveLength(1);
        expect(error.issues[0].key).toBe(key);
        expect(error.issues[0].message).toContain(expected);
        expect(error.message).toContain(expected);
      },
    );

    it('cuts long values in messages', () => {
      const error = errorOf(() => parse({ MQTT_SHARED_GROUP: `${'g'.repeat(200)}/x` }));
      expect(error.issues[0].message).toContain('…" (202 characters)');
      expect(error.issues[0].message.length).toBeLessThan(200);
    });
  });

  describe('one error for every problem', () => {
    it('lists 4 bad keys in one error with 4 lines', () => {
      const error = errorOf(() =>
        parse({
          MQTT_BROKER_PORT: 'abc',
          MQTT_KEEPALIVE: '-1',
          MQTT_TRANSPORT: 'udp',
          MQTT_TLS_ENABLED: 'maybe',
        }),
      );
      expect(error.name).toBe('MqttConfigError');
      expect(error.issues.map((i) => i.key)).toEqual([
        'MQTT_BROKER_PORT',
        'MQTT_KEEPALIVE',
        'MQTT_TLS_ENABLED',
        'MQTT_TRANSPORT',
      ]);
      const lines = error.message.split('\n');
      expect(lines[0]).toBe('Invalid MQTT configuration: 4 problems.');
      expect(lines.filter((l) => l.startsWith('  - '))).toHaveLength(4);
      expect(lines[lines.length - 1]).toBe(
        'Fix these keys in your environment, .env file or MqttModule options.',
      );
    });

    it('matches the documented format', () => {
      const error = errorOf(() =>
        parse({ MQTT_BROKER_PORT: 'abc', MQTT_TLS_ENABLED: 'true', MQTT_TLS_KEYFILE: '/k.pem' }),
      );
      expect(error.message).toBe(
        [
          'Invalid MQTT configuration: 2 problems.',
          '  - MQTT_BROKER_PORT must be a whole number from 1 to 65535, got "abc".',
          '  - MQTT_TLS_KEYFILE is set but MQTT_TLS_CERTFILE is not: set MQTT_TLS_CERTFILE to the client certificate that belongs to this key.',
          'Fix these keys in your environment, .env file or MqttModule options.',
        ].join('\n'),
      );
    });

    it('mixes per-key and cross-key problems, sorted by key, and lists warnings too', () => {
      const error = errorOf(() =>
        parse({
          MQTT_SHUTDOWN_TIMEOUT: 'x',
          MQTT_BROKER_URL: 'mqtts://b:8883',
          MQTT_BROKER_PORT: '1883',
          MQTT_TLS_CERTFIL: '/c.pem',
          MQTT_TLS_KEYFILE: '/k.pem',
        }),
      );
      expect(error.issues.map((i) => i.key)).toEqual([
        'MQTT_BROKER_URL',
        'MQTT_TLS_KEYFILE',
        'MQTT_SHUTDOWN_TIMEOUT',
      ]);
      expect(error.message).toContain('3 problems.');
      expect(error.warnings).toEqual([
        'MQTT_TLS_CERTFIL is not a known MQTT_* key and is ignored: did you mean MQTT_TLS_CERTFILE?',
      ]);
      expect(error.message).toContain(
        'Warnings:\n  - MQTT_TLS_CERTFIL is not a known MQTT_* key and is ignored: did you mean MQTT_TLS_CERTFILE?\nFix these keys',
      );
    });

    it('says "1 problem" for one', () => {
      expect(errorOf(() => parse({ MQTT_KEEPALIVE: 'x' })).message).toMatch(
        /^Invalid MQTT configuration: 1 problem\.\n/,
      );
    });

    it('does not report a consequence of a bad key as a second problem', () => {
      const error = errorOf(() =>
        parse({ MQTT_PASSWORD: 'pw-1234', MQTT_PROTOCOL_VERSION: 'MQTTv50' }),
      );
      expect(error.issues.map((i) => i.key)).toEqual(['MQTT_PROTOCOL_VERSION']);
      const tls = errorOf(() => parse({ MQTT_TLS_ENABLED: 'maybe', MQTT_TLS_CA_CERTS: '/ca' }));
      expect(tls.issues.map((i) => i.key)).toEqual(['MQTT_TLS_ENABLED']);
      expect(tls.warnings).toEqual([]);
    });
  });

  describe('secrets', () => {
    const PASSWORD = 'Xyzzy-S3cret-Pa55';

    it('never prints the password, even when everything else fails', () => {
      const error = errorOf(() =>
        parse({
          MQTT_PASSWORD: PASSWORD,
          MQTT_BROKER_URL: `mqtt://bob:${PASSWORD}@broker`,
          MQTT_BROKER_PORT: 'abc',
          MQTT_WS_PATH: PASSWORD,
          MQTT_SHARED_GROUP: `${PASSWORD}/x`,
          MQTT_TLS_ENABLED: 'true',
          MQTT_TLS_KEYFILE: `/keys/${PASSWORD}.pem`,
          MQTT_PASWORD: PASSWORD,
        }),
      );
      expect(error.issues.length).toBeGreaterThanOrEqual(5);
      expect(error.message).not.toContain(PASSWORD);
      expect(error.message).not.toContain('Xyzzy');
      expect(JSON.stringify(error.issues)).not.toContain(PASSWORD);
      expect(JSON.stringify(error.warnings)).not.toContain(PASSWORD);
      expect(inspect(error, { depth: 5 })).not.toContain(PASSWORD);
    });

    it('does not show a password that is not a string', () => {
      const error = errorOf(() => parse({ MQTT_USERNAME: 'u', MQTT_PASSWORD: 98765432 }));
      expect(error.issues).toEqual([
        {
          key: 'MQTT_PASSWORD',
          message: 'MQTT_PASSWORD must be a string, got a number (value not shown).',
        },
      ]);
      expect(error.message).not.toContain('98765432');
    });

    it('does not check the length of a password (so it is never quoted)', () => {
      const long = `${PASSWORD}${'x'.repeat(70000)}`;
      const { config } = parse({ MQTT_USERNAME: 'u', MQTT_PASSWORD: long });
      expect(config.password).toBe(long);
    });

    it.each([
      ['mqtt://user:secretpw@broker', 'mqtt://***@broker'],
      ['mqtts://user@broker:8883', 'mqtts://***@broker:8883'],
      ['user:secretpw@broker', '***@broker'],
      ['mqtt://user:se/cr?et#pw@broker', 'mqtt://***@broker'],
      ['http://user:secretpw@broker', 'http://***@broker'],
    ])('refuses credentials in the URL %s without echoing them', (url, shown) => {
      const error = errorOf(() => parse({ MQTT_BROKER_URL: url }));
      expect(error.issues).toHaveLength(1);
      expect(error.issues[0].message).toBe(
        `MQTT_BROKER_URL must not contain a user name or password: put them in MQTT_USERNAME / MQTT_PASSWORD, got "${shown}" (credentials hidden).`,
      );
      expect(error.message).not.toMatch(/secret|se\/cr|user:/);
    });

    it('never reads a key file while validating', () => {
      const dir = fs.mkdtempSync(join(tmpdir(), 'mqtt-secret-'));
      const key = join(dir, 'key.pem');
      fs.writeFileSync(key, 'PRIVATE-KEY-MATERIAL');
      const read = jest.spyOn(fs, 'readFileSync');
      try {
        const error = errorOf(() =>
          parse(
            {
              MQTT_TLS_ENABLED: 'true',
              MQTT_TLS_KEYFILE: key,
              MQTT_TLS_CERTFILE: join(dir, 'nope.pem'),
            },
            true,
          ),
        );
        expect(error.message).not.toContain('PRIVATE-KEY-MATERIAL');
        expect(read).not.toHaveBeenCalled();
      } finally {
        read.mockRestore();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('client id', () => {
    it('generates nestjs-mqtt- and 12 random hex characters, new on every parse', () => {
      const a = parse({}).config;
      const b = parse({ MQTT_CLIENT_ID: '' }).config;
      expect(a.clientId).toMatch(/^nestjs-mqtt-[0-9a-f]{12}$/);
      expect(b.clientId).toMatch(/^nestjs-mqtt-[0-9a-f]{12}$/);
      expect(a.clientId).not.toBe(b.clientId);
      expect(b.clientIdGenerated).toBe(true);
    });

    it('warns that a persistent session under a generated id can never be resumed', () => {
      expect(parse({ MQTT_CLEAN_SESSION: 'false' }).warnings).toEqual([
        'MQTT_CLEAN_SESSION is false but MQTT_CLIENT_ID is not set: the generated client id changes on every start, so the broker can never resume the session. Set MQTT_CLIENT_ID.',
      ]);
      expect(parse({ MQTT_CLEAN_SESSION: 'false', MQTT_CLIENT_ID: 'me' }).warnings).toEqual([]);
    });

    it('warns that MQTT 3.1 brokers may refuse ids longer than 23 bytes', () => {
      expect(parse({ MQTT_PROTOCOL_VERSION: 'MQTTv31' }).warnings).toEqual([
        'The generated client id is 24 bytes long, but MQTT 3.1 brokers may refuse ids longer than 23 bytes: set a shorter MQTT_CLIENT_ID, or use MQTT_PROTOCOL_VERSION=MQTTv311.',
      ]);
      expect(
        parse({ MQTT_PROTOCOL_VERSION: 3, MQTT_CLIENT_ID: 'x'.repeat(24) }).warnings[0],
      ).toContain('The client id is 24 bytes long');
      expect(parse({ MQTT_PROTOCOL_VERSION: 3, MQTT_CLIENT_ID: 'x'.repeat(23) }).warnings).toEqual(
        [],
      );
      expect(parse({ MQTT_CLIENT_ID: 'x'.repeat(100) }).warnings).toEqual([]);
    });
  });

  describe('MQTT_BROKER_URL', () => {
    const accepted: Array<[string, Input, Omit<Partial<MqttConfig>, 'tls'> & { tls?: boolean }]> = [
      [
        'host name',
        { MQTT_BROKER_URL: 'broker.example.com' },
        { protocol: 'mqtt', host: 'broker.example.com', port: 1883 },
      ],
      ['trimmed host', { MQTT_BROKER_URL: '  broker  ' }, { host: 'broker' }],
      [
        'host with _ and -',
        { MQTT_BROKER_URL: 'my_broker-1.local' },
        { host: 'my_broker-1.local' },
      ],
      ['IPv4', { MQTT_BROKER_URL: '192.168.1.10' }, { host: '192.168.1.10', port: 1883 }],
      ['bare IPv6', { MQTT_BROKER_URL: '::1' }, { host: '::1', port: 1883 }],
      ['bracketed IPv6', { MQTT_BROKER_URL: '[2001:db8::1]' }, { host: '2001:db8::1' }],
      [
        'host + port key',
        { MQTT_BROKER_URL: 'b', MQTT_BROKER_PORT: '1884' },
        { host: 'b', port: 1884 },
      ],
      ['mqtt://', { MQTT_BROKER_URL: 'mqtt://b' }, { protocol: 'mqtt', port: 1883, tls: false }],
      ['mqtt:// with port', { MQTT_BROKER_URL: 'mqtt://b:1884' }, { port: 1884 }],
      ['mqtt:// trailing slash', { MQTT_BROKER_URL: 'mqtt://b/' }, { protocol: 'mqtt', host: 'b' }],
      ['mqtts://', { MQTT_BROKER_URL: 'mqtts://b' }, { protocol: 'mqtts', port: 8883, tls: true }],
      [
        'MQTTS:// in capitals',
        { MQTT_BROKER_URL: 'MQTTS://Broker.Example.com' },
        { protocol: 'mqtts', host: 'Broker.Example.com' },
      ],
      [
        'ws://',
        { MQTT_BROKER_URL: 'ws://b' },
        { protocol: 'ws', port: 80, wsPath: '/mqtt', tls: false },
      ],
      [
        'wss://',
        { MQTT_BROKER_URL: 'wss://b' },
        { protocol: 'wss', port: 443, wsPath: '/mqtt', tls: true },
      ],
      [
        'wss:// with port and path',
        { MQTT_BROKER_URL: 'wss://b:8084/mqtt' },
        { port: 8084, wsPath: '/mqtt' },
      ],
      ['ws:// with a deep path', { MQTT_BROKER_URL: 'ws://b/a/b%20c' }, { wsPath: '/a/b%20c' }],
      ['ws:// with path /', { MQTT_BROKER_URL: 'ws://b/' }, { wsPath: '/' }],
      [
        'ws:// and MQTT_WS_PATH',
        { MQTT_BROKER_URL: 'ws://b', MQTT_WS_PATH: '/x' },
        { wsPath: '/x' },
      ],
      ['mqtt://[IPv6]:port', { MQTT_BROKER_URL: 'mqtt://[::1]:1884' }, { host: '::1', port: 1884 }],
      [
        'wss://[IPv6]/path',
        { MQTT_BROKER_URL: 'wss://[fe80::1]/ws' },
        { host: 'fe80::1', port: 443, wsPath: '/ws' },
      ],
      [
        'mqtts:// with MQTT_BROKER_PORT',
        { MQTT_BROKER_URL: 'mqtts://b', MQTT_BROKER_PORT: '9999' },
        { port: 9999 },
      ],
      [
        'scheme and agreeing keys',
        {
          MQTT_BROKER_URL: 'wss://b:8443/p',
          MQTT_TLS_ENABLED: 'yes',
          MQTT_TRANSPORT: 'WEBSOCKETS',
          MQTT_BROKER_PORT: '8443',
          MQTT_WS_PATH: '/p',
        },
        { protocol: 'wss', port: 8443, wsPath: '/p' },
      ],
      [
        'mqtt:// with TLS false and tcp',
        { MQTT_BROKER_URL: 'mqtt://b', MQTT_TLS_ENABLED: 'false', MQTT_TRANSPORT: 'tcp' },
        { protocol: 'mqtt' },
      ],
      [
        'keys without a scheme: wss',
        {
          MQTT_BROKER_URL: 'b',
          MQTT_TLS_ENABLED: 'true',
          MQTT_TRANSPORT: 'websockets',
          MQTT_BROKER_PORT: '443',
        },
        { protocol: 'wss', port: 443 },
      ],
      [
        'keys without a scheme: mqtts on 8883',
        { MQTT_TLS_ENABLED: 'true', MQTT_BROKER_PORT: '8883' },
        { protocol: 'mqtts', port: 8883 },
      ],
      [
        'TLS without a port: 1883 as in Flask-MQTT',
        { MQTT_TLS_ENABLED: 'true' },
        { protocol: 'mqtts', port: 1883 },
      ],
    ];
    it.each(accepted)('accepts %s', (_name, input, expected) => {
      const { tls, ...rest } = expected;
      const { config } = parse(input);
      expect(config).toMatchObject(rest);
      if (tls !== undefined) expect(config.tls.enabled).toBe(tls);
    });

    const rejected: Array<[string, string]> = [
      [
        'http://broker',
        'MQTT_BROKER_URL has the scheme "http://", which is not supported: use mqtt://, mqtts://, ws:// or wss://, or a bare host name, got "http://broker".',
      ],
      ['tcp://broker', 'the scheme "tcp://"'],
      ['ssl://broker', 'the scheme "ssl://"'],
      ['HTTPS://broker', 'the scheme "https://"'],
      [
        'broker:1883',
        'MQTT_BROKER_URL has a port but no scheme: write mqtt://broker:1883 (or mqtts://, ws://, wss://), or put the port in MQTT_BROKER_PORT, got "broker:1883".',
      ],
      ['[::1]:1883', 'write mqtt://[::1]:1883'],
      [
        'mqtt://broker:0',
        'MQTT_BROKER_URL has an invalid port (it must be a whole number from 1 to 65535), got "mqtt://broker:0".',
      ],
      ['mqtt://broker:65536', 'invalid port'],
      ['mqtt://broker:abc', 'invalid port'],
      ['mqtt://broker:', 'invalid port'],
      [
        'mqtt://broker/path',
        'MQTT_BROKER_URL has the path "/path", but only websocket URLs (ws://, wss://) can have one, got "mqtt://broker/path".',
      ],
      ['mqtts://broker:8883/x/', 'the path "/x/"'],
      [
        'ws://broker/mqtt?token=1',
        'MQTT_BROKER_URL must not have a query (?...) or fragment (#...), got "ws://broker/mqtt?token=1".',
      ],
      ['mqtt://broker#x', 'must not have a query'],
      [
        'my broker',
        'MQTT_BROKER_URL must be a host name, an IP address or a URL such as mqtts://broker.example.com:8883, got "my broker".',
      ],
      ['broker/path', 'got "broker/path".'],
      ['mqtt://', 'got "mqtt://".'],
      ['mqtt:///path', 'got "mqtt:///path".'],
      ['mqtt://::1', 'got "mqtt://::1".'],
      ['mqtt://[not-ipv6]', 'got "mqtt://[not-ipv6]".'],
      ['999.1.1.1', 'got "999.1.1.1".'],
      ['-broker', 'got "-broker".'],
      ['bröker.example', 'got "bröker.example".'],
      ['ws://bro ker/x', 'got "ws://bro ker/x".'],
    ];
    it.each(rejected)('rejects %p', (url, expected) => {
      const error = errorOf(() => parse({ MQTT_BROKER_URL: url }));
      expect(error.issues).toHaveLength(1);
      expect(error.issues[0].key).toBe('MQTT_BROKER_URL');
      expect(error.issues[0].message).toContain(expected);
    });

    const contradictions: Array<[string, Input, string]> = [
      [
        'ws:// with MQTT_TRANSPORT=tcp',
        { MQTT_BROKER_URL: 'ws://b', MQTT_TRANSPORT: 'tcp' },
        'MQTT_BROKER_URL uses ws://, which means MQTT_TRANSPORT "websockets", but MQTT_TRANSPORT is "tcp": make them agree, or unset MQTT_TRANSPORT.',
      ],
      [
        'wss:// with MQTT_TRANSPORT=tcp',
        { MQTT_BROKER_URL: 'wss://b', MQTT_TRANSPORT: 'TCP' },
        'MQTT_BROKER_URL uses wss://, which means MQTT_TRANSPORT "websockets", but MQTT_TRANSPORT is "tcp"',
      ],
      [
        'mqtt:// with websockets',
        { MQTT_BROKER_URL: 'mqtt://b', MQTT_TRANSPORT: 'websockets' },
        'MQTT_BROKER_URL uses mqtt://, which means MQTT_TRANSPORT "tcp", but MQTT_TRANSPORT is "websockets"',
      ],
      [
        'mqtts:// with websockets',
        { MQTT_BROKER_URL: 'mqtts://b', MQTT_TRANSPORT: 'websockets' },
        'uses mqtts://, which means MQTT_TRANSPORT "tcp"',
      ],
      [
        'mqtts:// with TLS off',
        { MQTT_BROKER_URL: 'mqtts://b', MQTT_TLS_ENABLED: 'false' },
        'MQTT_BROKER_URL uses mqtts://, which means TLS is on, but MQTT_TLS_ENABLED is false: make them agree, or unset MQTT_TLS_ENABLED.',
      ],
      [
        'wss:// with TLS off',
        { MQTT_BROKER_URL: 'wss://b', MQTT_TLS_ENABLED: '0' },
        'uses wss://, which means TLS is on, but MQTT_TLS_ENABLED is false',
      ],
      [
        'mqtt:// with TLS on',
        { MQTT_BROKER_URL: 'mqtt://b', MQTT_TLS_ENABLED: 'true' },
        'MQTT_BROKER_URL uses mqtt://, which means TLS is off, but MQTT_TLS_ENABLED is true',
      ],
      [
        'ws:// with TLS on',
        { MQTT_BROKER_URL: 'ws://b', MQTT_TLS_ENABLED: true },
        'uses ws://, which means TLS is off, but MQTT_TLS_ENABLED is true',
      ],
      [
        'URL port vs MQTT_BROKER_PORT',
        { MQTT_BROKER_URL: 'mqtt://b:1884', MQTT_BROKER_PORT: '1885' },
        'MQTT_BROKER_URL has the port 1884, but MQTT_BROKER_PORT is 1885: make them agree, or unset MQTT_BROKER_PORT.',
      ],
      [
        'URL path vs MQTT_WS_PATH',
        { MQTT_BROKER_URL: 'ws://b/x', MQTT_WS_PATH: '/y' },
        'MQTT_BROKER_URL has the path "/x", but MQTT_WS_PATH is "/y": make them agree, or unset MQTT_WS_PATH.',
      ],
    ];
    it.each(contradictions)('refuses %s', (_name, input, expected) => {
      const error = errorOf(() => parse(input));
      expect(error.issues).toEqual([
        { key: 'MQTT_BROKER_URL', message: expect.stringContaining(expected) },
      ]);
    });

    it('reports every contradiction of one URL at once', () => {
      const error = errorOf(() =>
        parse({
          MQTT_BROKER_URL: 'wss://b:8443/p',
          MQTT_TLS_ENABLED: 'false',
          MQTT_TRANSPORT: 'tcp',
          MQTT_BROKER_PORT: '443',
          MQTT_WS_PATH: '/q',
        }),
      );
      expect(error.issues).toHaveLength(4);
      expect(error.message).toContain('4 problems');
    });
  });

  describe('authentication', () => {
    it.each(['MQTTv31', 'MQTTv311', undefined])(
      'refuses a password without a user name on %p',
      (version) => {
        const error = errorOf(() =>
          parse({
            MQTT_PASSWORD: 'pw-secret',
            MQTT_PROTOCOL_VERSION: version,
            MQTT_CLIENT_ID: 'c',
          }),
        );
        expect(error.issues).toEqual([
          {
            key: 'MQTT_PASSWORD',
            message:
              'MQTT_PASSWORD is set but MQTT_USERNAME is not: MQTT 3.x cannot send a password without a user name (Flask-MQTT silently drops it). Set MQTT_USERNAME, or use MQTT_PROTOCOL_VERSION=MQTTv5.',
          },
        ]);
      },
    );

    it('allows a password without a user name on MQTT 5', () => {
      const { config } = parse({ MQTT_PASSWORD: 'pw', MQTT_PROTOCOL_VERSION: 'MQTTv5' });
      expect(config.password).toBe('pw');
      expect(config.username).toBeUndefined();
    });

    it('allows a user name without a password, and treats a blank user name as none', () => {
      expect(parse({ MQTT_USERNAME: 'u' }).config).toMatchObject({ username: 'u' });
      expect(parse({ MQTT_USERNAME: 'u' }).config.password).toBeUndefined();
      expect(() => parse({ MQTT_USERNAME: ' ', MQTT_PASSWORD: 'p' })).toThrow(MqttConfigError);
    });
  });

  describe('TLS', () => {
    it('fills the TLS settings when TLS is on', () => {
      const { config, warnings } = parse({
        MQTT_TLS_ENABLED: 'true',
        MQTT_BROKER_PORT: '8883',
        MQTT_TLS_CA_CERTS: ' /etc/ca.pem ',
        ...TLS_FILES,
        MQTT_TLS_CERT_REQS: 'ssl.CERT_OPTIONAL',
        MQTT_TLS_VERSION: 'PROTOCOL_TLSv1_3',
        MQTT_TLS_CIPHERS: 'HIGH',
      });
      expect(config.tls).toEqual({
        enabled: true,
        caCerts: '/etc/ca.pem',
        certfile: '/c.pem',
        keyfile: '/k.pem',
        certReqs: 'CERT_OPTIONAL',
        version: 'TLSv1.3',
        ciphers: 'HIGH',
        insecure: false,
      });
      expect(warnings).toEqual([]);
    });

    it('uses the system trust store when MQTT_TLS_CA_CERTS is unset', () => {
      expect(parse({ MQTT_BROKER_URL: 'mqtts://b' }).config.tls.caCerts).toBeUndefined();
    });

    it('refuses a key without a certificate, and a certificate without a key', () => {
      const key = errorOf(() => parse({ MQTT_TLS_ENABLED: 'true', MQTT_TLS_KEYFILE: '/k.pem' }));
      expect(key.issues).toEqual([
        {
          key: 'MQTT_TLS_KEYFILE',
          message:
            'MQTT_TLS_KEYFILE is set but MQTT_TLS_CERTFILE is not: set MQTT_TLS_CERTFILE to the client certificate that belongs to this key.',
        },
      ]);
      const cert = errorOf(() =>
        parse({ MQTT_BROKER_URL: 'mqtts://b', MQTT_TLS_CERTFILE: '/c.pem' }),
      );
      expect(cert.issues).toEqual([
        {
          key: 'MQTT_TLS_CERTFILE',
          message:
            'MQTT_TLS_CERTFILE is set but MQTT_TLS_KEYFILE is not: set MQTT_TLS_KEYFILE to the private key of this client certificate.',
        },
      ]);
    });

    it('warns that TLS keys are ignored while TLS is off (defaults excepted)', () => {
      const { config, warnings } = parse({
        MQTT_TLS_CA_CERTS: '/ca.pem',
        MQTT_TLS_KEYFILE: '/k.pem',
        MQTT_TLS_INSECURE: 'true',
        MQTT_TLS_CERT_REQS: 'CERT_REQUIRED',
      });
      expect(warnings).toEqual([
        'MQTT_TLS_CA_CERTS, MQTT_TLS_KEYFILE, MQTT_TLS_INSECURE are set but TLS is off (MQTT_TLS_ENABLED is not true and MQTT_BROKER_URL is not mqtts:// or wss://), so they are ignored.',
      ]);
      expect(config.tls).toEqual({ enabled: false, certReqs: 'CERT_REQUIRED', insecure: false });
      expect(parse({ MQTT_TLS_INSECURE: 'false', MQTT_TLS_ENABLED: 'false' }).warnings).toEqual([]);
      expect(parse({ MQTT_TLS_VERSION: 'TLSv1.3' }).warnings).toEqual([
        'MQTT_TLS_VERSION is set but TLS is off (MQTT_TLS_ENABLED is not true and MQTT_BROKER_URL is not mqtts:// or wss://), so it is ignored.',
      ]);
    });

    it.each([
      [{ MQTT_TLS_INSECURE: 'true' }, 'MQTT_TLS_INSECURE is true: host name verification is off'],
      [{ MQTT_TLS_INSECURE: 'true' }, 'Do not use this in production.'],
      [
        { MQTT_TLS_CERT_REQS: 'CERT_NONE' },
        "MQTT_TLS_CERT_REQS is CERT_NONE: the broker's certificate is not verified at all",
      ],
      [
        { MQTT_TLS_VERSION: 'TLSv1' },
        "MQTT_TLS_VERSION is TLSv1, which is insecure; OpenSSL's default security level may refuse it.",
      ],
      [{ MQTT_TLS_VERSION: 'PROTOCOL_TLSv1_1' }, 'MQTT_TLS_VERSION is TLSv1.1, which is insecure'],
    ])('warns about %p', (input, expected) => {
      const { warnings } = parse({ MQTT_BROKER_URL: 'mqtts://b', ...input });
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(expected);
    });

    it('warns when TLS is on with the plain port 1883, and when 8883 is used without TLS', () => {
      expect(parse({ MQTT_TLS_ENABLED: 'true' }).warnings).toEqual([
        'TLS is on but the port is 1883 (the default, for plain MQTT); brokers usually serve MQTT over TLS on 8883. Set MQTT_BROKER_PORT, or use an mqtts:// URL.',
      ]);
      expect(parse({ MQTT_TLS_ENABLED: 'true', MQTT_BROKER_PORT: '1883' }).warnings).toEqual([]);
      expect(parse({ MQTT_BROKER_PORT: '8883' }).warnings).toEqual([
        'MQTT_BROKER_PORT is 8883, the usual port of MQTT over TLS, but TLS is off: set MQTT_TLS_ENABLED=true if the broker expects TLS.',
      ]);
    });

    describe('file checks', () => {
      let dir: string;
      let files: { ca: string; cert: string; key: string };
      beforeAll(() => {
        dir = fs.mkdtempSync(join(tmpdir(), 'mqtt-config-'));
        files = { ca: join(dir, 'ca.pem'), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
        for (const path of Object.values(files)) fs.writeFileSync(path, '-----BEGIN X-----\n');
      });
      afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
      const tlsWith = (paths: Partial<Record<'ca' | 'cert' | 'key', string>>): Input => ({
        MQTT_BROKER_URL: 'mqtts://b',
        MQTT_TLS_CA_CERTS: paths.ca,
        MQTT_TLS_CERTFILE: paths.cert,
        MQTT_TLS_KEYFILE: paths.key,
      });

      it('accepts readable files', () => {
        expect(parse(tlsWith(files), true).config.tls.keyfile).toBe(files.key);
      });

      it('checks files by default', () => {
        const missing = join(dir, 'missing.pem');
        expect(() => parseMqttConfig(tlsWith({ ca: missing }))).toThrow(MqttConfigError);
      });

      it('names the key and path of every missing file', () => {
        const error = errorOf(() =>
          parse(
            tlsWith({ ca: join(dir, 'a.pem'), cert: join(dir, 'b.pem'), key: join(dir, 'c.pem') }),
            true,
          ),
        );
        expect(error.issues).toEqual([
          {
            key: 'MQTT_TLS_CA_CERTS',
            message: `MQTT_TLS_CA_CERTS names the file "${join(dir, 'a.pem')}", which does not exist: fix the path, or mount the file.`,
          },
          {
            key: 'MQTT_TLS_CERTFILE',
            message: expect.stringContaining(`"${join(dir, 'b.pem')}", which does not exist`),
          },
          {
            key: 'MQTT_TLS_KEYFILE',
            message: expect.stringContaining(`"${join(dir, 'c.pem')}", which does not exist`),
          },
        ]);
      });

      it('shows where a relative path was looked for', () => {
        const error = errorOf(() => parse(tlsWith({ ca: 'certs/none.pem' }), true));
        expect(error.issues[0].message).toBe(
          `MQTT_TLS_CA_CERTS names the file "certs/none.pem" (${resolve('certs/none.pem')}), which does not exist: fix the path, or mount the file.`,
        );
      });

      it('treats a path through a file as missing', () => {
        const error = errorOf(() => parse(tlsWith({ ca: join(files.ca, 'inner.pem') }), true));
        expect(error.issues[0].message).toContain('which does not exist');
      });

      it('refuses a directory', () => {
        const error = errorOf(() => parse(tlsWith({ ca: dir }), true));
        expect(error.issues).toEqual([
          {
            key: 'MQTT_TLS_CA_CERTS',
            message: `MQTT_TLS_CA_CERTS names "${dir}", which is a directory, not a regular file: name the PEM file itself.`,
          },
        ]);
      });

      it('refuses a file this process cannot read', () => {
        const access = jest.spyOn(fs, 'accessSync').mockImplementation((path) => {
          if (path === files.key) throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
        });
        try {
          const error = errorOf(() => parse(tlsWith(files), true));
          expect(error.issues).toEqual([
            {
              key: 'MQTT_TLS_KEYFILE',
              message: `MQTT_TLS_KEYFILE names the file "${files.key}", which this process cannot read (permission denied): fix its permissions.`,
            },
          ]);
        } finally {
          access.mockRestore();
        }
      });

      it('skips file checks when checkFiles is false or TLS is off', () => {
        const missing = tlsWith({ ca: join(dir, 'missing.pem') });
        expect(parse(missing, false).config.tls.caCerts).toBe(join(dir, 'missing.pem'));
        const off = { ...missing, MQTT_BROKER_URL: 'b' };
        expect(parse(off, true).warnings[0]).toContain('MQTT_TLS_CA_CERTS is set but TLS is off');
      });
    });
  });

  describe('last will', () => {
    it.each([
      ['a string', 'bye', Buffer.from('bye')],
      ['a string kept as is', ' bye ', Buffer.from(' bye ')],
      ['UTF-8', 'tschüß', Buffer.from('tschüß', 'utf8')],
      ['an integer', 42, Buffer.from('42')],
      ['a float', 3.5, Buffer.from('3.5')],
      ['a negative number', -1, Buffer.from('-1')],
      ['a Buffer', Buffer.from([0, 255, 1]), Buffer.from([0, 255, 1])],
      ['unset', undefined, Buffer.alloc(0)],
      ['empty', '', Buffer.alloc(0)],
    ])('sends %s as the payload', (_name, message, expected) => {
      const { config } = parse({ MQTT_LAST_WILL_TOPIC: 'status', MQTT_LAST_WILL_MESSAGE: message });
      expect(config.will).toEqual({ topic: 'status', payload: expected, qos: 0, retain: false });
    });

    it('has no will without a topic, and warns about will keys set without one', () => {
      const { config, warnings } = parse({
        MQTT_LAST_WILL_MESSAGE: 'bye',
        MQTT_LAST_WILL_QOS: '1',
        MQTT_LAST_WILL_RETAIN: 'false',
      });
      expect(config.will).toBeUndefined();
      expect(warnings).toEqual([
        'MQTT_LAST_WILL_MESSAGE, MQTT_LAST_WILL_QOS are set but MQTT_LAST_WILL_TOPIC is not, so no last will is sent.',
      ]);
      expect(parse({ MQTT_LAST_WILL_RETAIN: 'true' }).warnings).toEqual([
        'MQTT_LAST_WILL_RETAIN is set but MQTT_LAST_WILL_TOPIC is not, so no last will is sent.',
      ]);
    });
  });

  describe('other warnings', () => {
    it('warns that MQTT_WS_PATH is ignored on tcp', () => {
      expect(parse({ MQTT_WS_PATH: '/ws' }).warnings).toEqual([
        'MQTT_WS_PATH is set but the transport is tcp (MQTT_TRANSPORT is not websockets and MQTT_BROKER_URL is not ws:// or wss://), so it is ignored.',
      ]);
    });

    it('warns when connecting in the background can never succeed after a failure', () => {
      expect(
        parse({ MQTT_CONNECT_IN_BACKGROUND: 'true', MQTT_RECONNECT_PERIOD: '0' }).warnings,
      ).toEqual([
        'MQTT_CONNECT_IN_BACKGROUND is true but MQTT_RECONNECT_PERIOD is 0: if the first attempt fails, the client never connects.',
      ]);
    });

    it.each([
      ['MQTT_BROKER_PROT', 'did you mean MQTT_BROKER_PORT?'],
      ['MQTT_BROKR_URL', 'did you mean MQTT_BROKER_URL?'],
      ['MQTT_PROTOCOL', 'did you mean MQTT_PROTOCOL_VERSION?'],
      ['MQTT_TLS', 'did you mean MQTT_TLS_ENABLED?'],
      ['MQTT_KEEP_ALIVE', 'did you mean MQTT_KEEPALIVE?'],
      ['MQTT_tls_enabled', 'did you mean MQTT_TLS_ENABLED?'],
      ['MQTT_PASWORD', 'did you mean MQTT_PASSWORD?'],
      ['MQTT_CLIENTID', 'did you mean MQTT_CLIENT_ID?'],
    ])('warns about the unknown key %s: %s', (key, expected) => {
      const { warnings } = parse({ [key]: 'whatever' });
      expect(warnings).toEqual([`${key} is not a known MQTT_* key and is ignored: ${expected}`]);
    });

    it('warns about an unknown key with nothing close, even when it is blank', () => {
      expect(parse({ MQTT_SOMETHING_ELSE_ENTIRELY: '' }).warnings).toEqual([
        'MQTT_SOMETHING_ELSE_ENTIRELY is not a known MQTT_* key and is ignored.',
      ]);
    });

    it('has a message of its own for MQTT_REFRESH_TIME', () => {
      expect(parse({ MQTT_REFRESH_TIME: '1.0' }).warnings).toEqual([
        'MQTT_REFRESH_TIME was removed from Flask-MQTT long ago and is ignored: use MQTT_RECONNECT_PERIOD (seconds between reconnect attempts) instead.',
      ]);
    });

    it('returns warnings, one per unknown key, and never throws for them', () => {
      const { warnings } = parse({ MQTT_A1: 'x', MQTT_B2: 'y', MQTT_REFRESH_TIME: '1' });
      expect(warnings).toHaveLength(3);
    });
  });
});

describe('validateMqttConfig', () => {
  const env: Input = {
    PATH: '/usr/bin',
    DATABASE_URL: 'postgres://x',
    PORT: '3000',
    MQTT_BROKER_URL: ' mqtts://b ',
    MQTT_BROKER_PORT: '8884',
    MQTT_TLS_ENABLED: 'TRUE',
    MQTT_CLEAN_SESSION: 'false',
    MQTT_CLIENT_ID: 'svc',
    MQTT_PROTOCOL_VERSION: 'mqttv5',
    MQTT_TLS_CERT_REQS: 'ssl.cert_none',
    MQTT_TLS_VERSION: 'PROTOCOL_TLSv1_2',
    MQTT_TRANSPORT: 'TCP',
    MQTT_KEEPALIVE: ' 30 ',
    MQTT_LAST_WILL_TOPIC: 'status',
    MQTT_LAST_WILL_MESSAGE: ' bye ',
    MQTT_USERNAME: ' u ',
    MQTT_PASSWORD: ' p ',
    MQTT_SHARED_GROUP: '',
    MQTT_BROKR_PORT: 'typo',
  };

  it('normalises the MQTT_* keys to native values and leaves every other key alone', () => {
    expect(validateMqttConfig(env)).toEqual({
      PATH: '/usr/bin',
      DATABASE_URL: 'postgres://x',
      PORT: '3000',
      MQTT_BROKER_URL: 'mqtts://b',
      MQTT_BROKER_PORT: 8884,
      MQTT_TLS_ENABLED: true,
      MQTT_CLEAN_SESSION: false,
      MQTT_CLIENT_ID: 'svc',
      MQTT_PROTOCOL_VERSION: 5,
      MQTT_TLS_CERT_REQS: 'CERT_NONE',
      MQTT_TLS_VERSION: 'TLSv1.2',
      MQTT_TRANSPORT: 'tcp',
      MQTT_KEEPALIVE: 30,
      MQTT_LAST_WILL_TOPIC: 'status',
      MQTT_LAST_WILL_MESSAGE: ' bye ',
      MQTT_USERNAME: ' u ',
      MQTT_PASSWORD: ' p ',
      MQTT_SHARED_GROUP: '',
      MQTT_BROKR_PORT: 'typo',
    });
  });

  it('keeps "false" false', () => {
    const out = validateMqttConfig({ MQTT_TLS_ENABLED: 'false', MQTT_CLEAN_SESSION: 'no' });
    expect(out).toEqual({ MQTT_TLS_ENABLED: false, MQTT_CLEAN_SESSION: false });
  });

  it('does not add a client id or defaults', () => {
    expect(validateMqttConfig({ HOME: '/root' })).toEqual({ HOME: '/root' });
  });

  it('is idempotent', () => {
    const inputs: Input[] = [
      env,
      { MQTT_TLS_VERSION: 'PROTOCOL_TLS', MQTT_BROKER_URL: 'wss://[::1]:8443/ws' },
      { MQTT_LAST_WILL_TOPIC: 't', MQTT_LAST_WILL_MESSAGE: 42, MQTT_LAST_WILL_QOS: '2' },
      { MQTT_LAST_WILL_TOPIC: 't', MQTT_LAST_WILL_MESSAGE: Buffer.from('x') },
      { MQTT_PROTOCOL_VERSION: 'MQTTv31', MQTT_TLS_CERT_REQS: 1, MQTT_RECONNECT_PERIOD: '0' },
    ];
    for (const input of inputs) {
      const once = validateMqttConfig(input);
      expect(validateMqttConfig(once)).toEqual(once);
      expect(parseMqttConfig(once).config).toEqual({
        ...parseMqttConfig(input).config,
        clientId: expect.any(String),
      });
    }
  });

  it('does not change its argument', () => {
    const input = { MQTT_BROKER_PORT: '1884' };
    validateMqttConfig(input);
    expect(input).toEqual({ MQTT_BROKER_PORT: '1884' });
  });

  it('throws an MqttConfigError listing every problem', () => {
    const error = errorOf(() =>
      validateMqttConfig({ MQTT_BROKER_PORT: 'x', MQTT_KEEPALIVE: 'y', PATH: '/bin' }),
    );
    expect(error.issues.map((i) => i.key)).toEqual(['MQTT_BROKER_PORT', 'MQTT_KEEPALIVE']);
  });

  it('checks TLS files', () => {
    expect(() =>
      validateMqttConfig({ MQTT_BROKER_URL: 'mqtts://b', MQTT_TLS_CA_CERTS: '/no/such/ca.pem' }),
    ).toThrow(/MQTT_TLS_CA_CERTS names the file "\/no\/such\/ca.pem", which does not exist/);
  });
});
