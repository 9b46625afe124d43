import { connect } from 'mqtt';
import type { Duplex } from 'node:stream';
import { MqttConfigError } from '../errors/mqtt-config.error';
import { toMqttConnectOptions } from './mqtt-client-options';
import { parseMqttConfig } from './mqtt-config.parse';

type Input = Record<string, unknown>;
const parse = (input: Input) => parseMqttConfig(input, { checkFiles: false }).config;

function messagesOf(input: Input): string[] {
  try {
    parseMqttConfig(input, { checkFiles: false });
  } catch (error) {
    expect(error).toBeInstanceOf(MqttConfigError);
    return (error as MqttConfigError).issues.map((i) => `${i.key}: ${i.message}`);
  }
  throw new Error('expected an MqttConfigError, but nothing was thrown');
}

describe('MQTT_BROKER_URL as a list of brokers (failover)', () => {
  it('a single broker is a one-entry list, and host/port are that broker', () => {
    const config = parse({ MQTT_BROKER_URL: 'mqtt://broker:1884' });
    expect(config.brokers).toEqual([{ protocol: 'mqtt', host: 'broker', port: 1884 }]);
    expect([config.host, config.port]).toEqual(['broker', 1884]);
  });

  it.each<[string, Input, Array<[string, number]>]>([
    [
      'bare hosts take MQTT_BROKER_PORT',
      { MQTT_BROKER_URL: 'a,b, c ', MQTT_BROKER_PORT: 1999 },
      [
        ['a', 1999],
        ['b', 1999],
        ['c', 1999],
      ],
    ],
    [
      'bare hosts without a port take 1883',
      { MQTT_BROKER_URL: 'a,b' },
      [
        ['a', 1883],
        ['b', 1883],
      ],
    ],
    [
      'host:port entries keep their own port',
      { MQTT_BROKER_URL: 'a:1884,b:1885,c' },
      [
        ['a', 1884],
        ['b', 1885],
        ['c', 1883],
      ],
    ],
    [
      'MQTT_BROKER_PORT is the default of entries without a port',
      { MQTT_BROKER_URL: 'a:1884,b', MQTT_BROKER_PORT: '2000' },
      [
        ['a', 1884],
        ['b', 2000],
      ],
    ],
    [
      'URLs and hosts mixed',
      { MQTT_BROKER_URL: 'mqtt://a:1,b:2,mqtt://c' },
      [
        ['a', 1],
        ['b', 2],
        ['c', 1883],
      ],
    ],
    [
      'IPv6 entries',
      { MQTT_BROKER_URL: '[::1]:1884,::2,127.0.0.1:1885' },
      [
        ['::1', 1884],
        ['::2', 1883],
        ['127.0.0.1', 1885],
      ],
    ],
  ])('%s', (_title, input, expected) => {
    const config = parse(input);
    expect(config.brokers.map((b) => [b.host, b.port])).toEqual(expected);
    expect(config.brokers.every((b) => b.protocol === 'mqtt')).toBe(true);
    expect([config.host, config.port]).toEqual(expected[0]);
  });

  it('the scheme of a list sets TLS and port for every entry', () => {
    const config = parse({ MQTT_BROKER_URL: 'mqtts://a,b:8884' });
    expect(config.protocol).toBe('mqtts');
    expect(config.tls.enabled).toBe(true);
    expect(config.brokers).toEqual([
      { protocol: 'mqtts', host: 'a', port: 8883 },
      { protocol: 'mqtts', host: 'b', port: 8884 },
    ]);
  });

  it.each<[string, Input, string]>([
    [
      'an empty entry',
      { MQTT_BROKER_URL: 'a,,b' },
      'MQTT_BROKER_URL: MQTT_BROKER_URL lists 3 brokers separated by commas, but entry 2 is empty: remove the extra comma.',
    ],
    ['a trailing comma', { MQTT_BROKER_URL: 'a,b,' }, 'entry 3 is empty'],
    [
      'a bad host',
      { MQTT_BROKER_URL: 'a,b c:1,d' },
      'MQTT_BROKER_URL entry 2 of 3 is invalid: MQTT_BROKER_URL must be a host name, an IP address or a URL such as mqtts://broker.example.com:8883, got "b c:1".',
    ],
    [
      'a bad port',
      { MQTT_BROKER_URL: 'a:1883,b:70000' },
      'entry 2 of 2 is invalid: MQTT_BROKER_URL must be a host name, an IP address or a URL such as mqtts://broker.example.com:8883, got "b:70000".',
    ],
    [
      'a bad scheme',
      { MQTT_BROKER_URL: 'mqtt://a,http://b' },
      'entry 2 of 2 is invalid: MQTT_BROKER_URL has the scheme "http://"',
    ],
    [
      'credentials',
      { MQTT_BROKER_URL: 'a,mqtt://u:secret@b' },
      'entry 2 of 2 is invalid: MQTT_BROKER_URL must not contain a user name or password',
    ],
    [
      'a websocket path',
      { MQTT_BROKER_URL: 'ws://a/mqtt,ws://b' },
      'entry 1 of 2 has a path ("ws://a/mqtt"): in a broker list, put the websocket path in MQTT_WS_PATH.',
    ],
    ['mixed schemes', { MQTT_BROKER_URL: 'mqtt://a,mqtts://b' }, 'different schemes (mqtt, mqtts)'],
    [
      'the same broker twice',
      { MQTT_BROKER_URL: 'b,a,b:1883' },
      'MQTT_BROKER_URL: MQTT_BROKER_URL lists the broker b:1883 more than once',
    ],
    [
      'the same broker twice, once by default port',
      { MQTT_BROKER_URL: 'a:1,a', MQTT_BROKER_PORT: 1 },
      'lists the broker a:1 more than once',
    ],
  ])('refuses %s, naming the entry', (_title, input, expected) => {
    const found = messagesOf(input);
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(expected);
  });

  it('never shows the credentials of a bad entry', () => {
    const [message] = messagesOf({ MQTT_BROKER_URL: 'a,mqtt://user:hunter2@b' });
    expect(message).not.toContain('hunter2');
    expect(message).toContain('***@b');
  });

  it('a single host:port is still refused (the port belongs in the URL or MQTT_BROKER_PORT)', () => {
    expect(messagesOf({ MQTT_BROKER_URL: 'broker:1883' })[0]).toContain('has a port but no scheme');
  });

  it('a list conflicting with MQTT_TLS_ENABLED is reported once', () => {
    const found = messagesOf({ MQTT_BROKER_URL: 'mqtts://a,mqtts://b', MQTT_TLS_ENABLED: false });
    expect(found).toEqual([
      expect.stringContaining(
        'MQTT_BROKER_URL: MQTT_BROKER_URL uses mqtts://, which means TLS is on',
      ),
    ]);
  });
});

describe('toMqttConnectOptions with a broker list', () => {
  const build = (input: Input) =>
    toMqttConnectOptions(parseMqttConfig({ MQTT_CLIENT_ID: 'app', ...input }).config);

  it('gives MQTT.js its servers rotation; the URL is the first broker', () => {
    const { url, options } = build({ MQTT_BROKER_URL: '127.0.0.1:1884,[::1]:1885,host-c' });
    expect(url).toBe('mqtt://127.0.0.1:1884');
    expect(options.servers).toEqual([
      { protocol: 'mqtt', host: '127.0.0.1', port: 1884 },
      { protocol: 'mqtt', host: '::1', port: 1885 },
      { protocol: 'mqtt', host: 'host-c', port: 1883 },
    ]);
  });

  it('a single broker has no servers option', () => {
    expect(build({ MQTT_BROKER_URL: 'broker' }).options.servers).toBeUndefined();
  });

  it('with TLS, leaves the server name to MQTT.js (it names each broker it connects to)', () => {
    const { options } = build({ MQTT_BROKER_URL: 'mqtts://a.example,mqtts://b.example' });
    expect(options.servername).toBeUndefined();
    expect(options.rejectUnauthorized).toBe(true);
  });

  it('MQTT.js connects to each broker in turn with these options', () => {
    const { url, options } = build({ MQTT_BROKER_URL: '127.0.0.1:1,127.0.0.1:2' });
    // manualConnect: nothing is opened until the stream builder is called, here by the test.
    const client = connect(url, { ...options, manualConnect: true, reconnectPeriod: 0 });
    const builder = (client as unknown as { streamBuilder: (c: unknown) => Duplex }).streamBuilder;
    const ports: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      const stream = builder(client);
      stream.on('error', () => undefined);
      stream.destroy();
      ports.push(client.options.port);
    }
    expect(ports).toEqual([1, 2, 1]);
  });
});
