import { connect } from 'mqtt';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MqttConfigError } from '../errors/mqtt-config.error';
import { toMqttConnectOptions } from './mqtt-client-options';
import { parseMqttConfig } from './mqtt-config.parse';

const build = (input: Record<string, unknown>) =>
  toMqttConnectOptions(parseMqttConfig({ MQTT_CLIENT_ID: 'app-1', ...input }).config);

const TLS_OPTION_KEYS = [
  'ca',
  'cert',
  'key',
  'rejectUnauthorized',
  'minVersion',
  'maxVersion',
  'ciphers',
  'checkServerIdentity',
  'servername',
  'wsOptions',
];

describe('toMqttConnectOptions', () => {
  let dir: string;
  let files: { ca: string; cert: string; key: string };
  beforeAll(() => {
    dir = fs.mkdtempSync(join(tmpdir(), 'mqtt-options-'));
    files = { ca: join(dir, 'ca.pem'), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
    fs.writeFileSync(files.ca, 'CA-PEM');
    fs.writeFileSync(files.cert, 'CERT-PEM');
    fs.writeFileSync(files.key, 'KEY-PEM');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('builds a plain tcp connection with the defaults', () => {
    expect(build({})).toEqual({
      url: 'mqtt://localhost:1883',
      options: {
        clientId: 'app-1',
        protocolVersion: 4,
        protocolId: 'MQTT',
        clean: true,
        keepalive: 60,
        connectTimeout: 5000,
        reconnectPeriod: 1000,
      },
    });
  });

  it('passes credentials, timeouts in milliseconds and the session flag', () => {
    const { options } = build({
      MQTT_USERNAME: 'alice',
      MQTT_PASSWORD: 'pw',
      MQTT_KEEPALIVE: '30',
      MQTT_CLEAN_SESSION: 'false',
      MQTT_CONNECTION_TIMEOUT: '10',
      MQTT_RECONNECT_PERIOD: '0',
    });
    expect(options).toMatchObject({
      username: 'alice',
      password: 'pw',
      keepalive: 30,
      clean: false,
      connectTimeout: 10000,
      reconnectPeriod: 0,
    });
  });

  it('sets no subscription, queue or TLS options on tcp', () => {
    const { options } = build({ MQTT_SHARED_GROUP: 'g', MQTT_DEAD_LETTER_TOPIC: 'dlq' });
    for (const key of [...TLS_OPTION_KEYS, 'resubscribe', 'queueQoSZero', 'will', 'username']) {
      expect(options).not.toHaveProperty(key);
    }
  });

  it('uses MQIsdp for MQTT 3.1 and MQTT for 3.1.1 and 5', () => {
    expect(build({ MQTT_PROTOCOL_VERSION: 'MQTTv31' }).options).toMatchObject({
      protocolVersion: 3,
      protocolId: 'MQIsdp',
    });
    expect(build({ MQTT_PROTOCOL_VERSION: '4' }).options).toMatchObject({
      protocolVersion: 4,
      protocolId: 'MQTT',
    });
    expect(build({ MQTT_PROTOCOL_VERSION: 'MQTTv5' }).options).toMatchObject({
      protocolVersion: 5,
      protocolId: 'MQTT',
    });
  });

  it('sends a password without a user name on MQTT 5', () => {
    const { options } = build({ MQTT_PROTOCOL_VERSION: 5, MQTT_PASSWORD: 'token' });
    expect(options.password).toBe('token');
    expect(options).not.toHaveProperty('username');
  });

  it('sets the will, with a number payload as its decimal text', () => {
    expect(
      build({
        MQTT_LAST_WILL_TOPIC: 'status/app-1',
        MQTT_LAST_WILL_MESSAGE: 42,
        MQTT_LAST_WILL_QOS: '1',
        MQTT_LAST_WILL_RETAIN: 'true',
      }).options.will,
    ).toEqual({ topic: 'status/app-1', payload: Buffer.from('42'), qos: 1, retain: true });
    expect(build({ MQTT_LAST_WILL_TOPIC: 't' }).options.will).toEqual({
      topic: 't',
      payload: Buffer.alloc(0),
      qos: 0,
      retain: false,
    });
  });

  it('builds mqtts with the files read, the version pinned and the host as server name', () => {
    const target = toMqttConnectOptions(
      parseMqttConfig({
        MQTT_BROKER_URL: 'mqtts://broker.example.com',
        MQTT_TLS_CA_CERTS: files.ca,
        MQTT_TLS_CERTFILE: files.cert,
        MQTT_TLS_KEYFILE: files.key,
        MQTT_TLS_VERSION: 'TLSv1.2',
        MQTT_TLS_CIPHERS: 'ECDHE-RSA-AES128-GCM-SHA256',
      }).config,
    );
    expect(target.url).toBe('mqtts://broker.example.com:8883');
    expect(target.options).toMatchObject({
      ca: Buffer.from('CA-PEM'),
      cert: Buffer.from('CERT-PEM'),
      key: Buffer.from('KEY-PEM'),
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.2',
      ciphers: 'ECDHE-RSA-AES128-GCM-SHA256',
      servername: 'broker.example.com',
    });
    expect(target.options).not.toHaveProperty('checkServerIdentity');
    expect(target.options).not.toHaveProperty('wsOptions');
  });

  it('leaves the CA list and version to Node when unset', () => {
    const { options } = build({ MQTT_BROKER_URL: 'mqtts://b' });
    for (const key of ['ca', 'cert', 'key', 'minVersion', 'maxVersion', 'ciphers']) {
      expect(options).not.toHaveProperty(key);
    }
    expect(options.rejectUnauthorized).toBe(true);
  });

  it.each([
    ['CERT_REQUIRED', true],
    ['CERT_OPTIONAL', true],
    ['CERT_NONE', false],
  ])('maps MQTT_TLS_CERT_REQS=%s to rejectUnauthorized=%p', (reqs, reject) => {
    expect(build({ MQTT_BROKER_URL: 'mqtts://b', MQTT_TLS_CERT_REQS: reqs }).options).toMatchObject(
      { rejectUnauthorized: reject },
    );
  });

  it('skips the host name check when MQTT_TLS_INSECURE is true', () => {
    const { options } = build({ MQTT_BROKER_URL: 'mqtts://b', MQTT_TLS_INSECURE: 'true' });
    expect(options.rejectUnauthorized).toBe(true);
    expect(options.checkServerIdentity?.('other.host', {} as never)).toBeUndefined();
  });

  it('sets no server name for an IP address', () => {
    expect(build({ MQTT_BROKER_URL: 'mqtts://10.0.0.1' }).options).not.toHaveProperty('servername');
    expect(build({ MQTT_BROKER_URL: 'mqtts://[::1]' }).options).not.toHaveProperty('servername');
  });

  it('builds ws with the default and a custom path', () => {
    expect(build({ MQTT_TRANSPORT: 'websockets', MQTT_BROKER_URL: 'broker' }).url).toBe(
      'ws://broker:1883/mqtt',
    );
    const target = build({ MQTT_BROKER_URL: 'ws://broker/custom' });
    expect(target.url).toBe('ws://broker:80/custom');
    for (const key of TLS_OPTION_KEYS) expect(target.options).not.toHaveProperty(key);
  });

  it('builds wss and hands the TLS settings to the websocket too', () => {
    const target = toMqttConnectOptions(
      parseMqttConfig({
        MQTT_CLIENT_ID: 'app-1',
        MQTT_BROKER_URL: 'wss://broker.example.com:8443/mqtt',
        MQTT_TLS_CA_CERTS: files.ca,
        MQTT_TLS_VERSION: 'TLSv1.3',
        MQTT_TLS_INSECURE: 'true',
      }).config,
    );
    expect(target.url).toBe('wss://broker.example.com:8443/mqtt');
    const tls = {
      ca: Buffer.from('CA-PEM'),
      rejectUnauthorized: true,
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
      servername: 'broker.example.com',
      checkServerIdentity: expect.any(Function),
    };
    expect(target.options).toMatchObject(tls);
    expect(target.options.wsOptions).toEqual(tls);
  });

  it.each([
    [{ MQTT_BROKER_URL: '::1' }, 'mqtt://[::1]:1883', undefined],
    [{ MQTT_BROKER_URL: 'mqtts://[2001:db8::1]:8884' }, 'mqtts://[2001:db8::1]:8884', undefined],
    [{ MQTT_BROKER_URL: 'ws://[::1]:9001/ws' }, 'ws://[::1]:9001/ws', '[::1]'],
    [{ MQTT_BROKER_URL: '10.1.2.3', MQTT_BROKER_PORT: 1884 }, 'mqtt://10.1.2.3:1884', undefined],
  ])('puts IPv6 hosts in brackets: %p', (input, url, hostname) => {
    const target = build(input);
    expect(target.url).toBe(url);
    expect(target.options.hostname).toBe(hostname);
  });

  it.each([
    [{}, 'mqtt', 'localhost', 1883, undefined],
    [{ MQTT_BROKER_URL: 'mqtt://[::1]:1884' }, 'mqtt', '::1', 1884, undefined],
    [{ MQTT_BROKER_URL: 'ws://[::1]:9001/ws' }, 'ws', '[::1]', 9001, '/ws'],
    [{ MQTT_BROKER_URL: 'wss://b:8443/x/y' }, 'wss', 'b', 8443, '/x/y'],
    [{ MQTT_BROKER_URL: 'mqtts://b' }, 'mqtts', 'b', 8883, undefined],
  ])('gives MQTT.js a URL it reads back as meant: %p', (input, protocol, host, port, path) => {
    const target = build(input);
    // manualConnect: the client is only built, nothing is opened (so nothing to end).
    const client = connect(target.url, { ...target.options, manualConnect: true });
    expect(client.options.protocol).toBe(protocol);
    expect(client.options.hostname ?? client.options.host).toBe(host);
    expect(client.options.port).toBe(port);
    expect(client.options.path).toBe(path);
    expect(client.options.clientId).toBe('app-1');
  });

  it('fails with the key and path, never the content, when a file has gone', () => {
    const gone = join(dir, 'gone.pem');
    fs.writeFileSync(gone, 'SECRET-KEY-CONTENT');
    const { config } = parseMqttConfig({
      MQTT_BROKER_URL: 'mqtts://b',
      MQTT_TLS_CERTFILE: files.cert,
      MQTT_TLS_KEYFILE: gone,
    });
    fs.rmSync(gone);
    let error: unknown;
    try {
      toMqttConnectOptions(config);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MqttConfigError);
    expect((error as MqttConfigError).issues).toEqual([
      {
        key: 'MQTT_TLS_KEYFILE',
        message: `MQTT_TLS_KEYFILE names the file "${gone}", which could not be read (ENOENT).`,
      },
    ]);
    expect((error as Error).message).not.toContain('SECRET-KEY-CONTENT');
  });

  it('reads nothing for a connection without TLS', () => {
    const read = jest.spyOn(fs, 'readFileSync');
    try {
      build({ MQTT_TLS_CA_CERTS: files.ca });
      expect(read).not.toHaveBeenCalled();
    } finally {
      read.mockRestore();
    }
  });
});
