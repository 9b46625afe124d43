import { connect } from 'mqtt';
import { classifyConnectError } from './connect-errors';
import { MQTT5_REFUSED } from './connection.messages';
import { currentBroker } from './current-broker';
import { sharedGroups } from './shared-probe';

describe('broker support', () => {
  it('sharedGroups: the groups of $share/<group>/ filters, each once', () => {
    expect(
      sharedGroups(['$share/a/x', 'plain/topic', '$share/b/y/#', '$share/a/z', '$shared/c/x']),
    ).toEqual(['a', 'b']);
    expect(sharedGroups(['a/b', '#'])).toEqual([]);
  });

  it('currentBroker: the host and port MQTT.js is set to, IPv6 in brackets', () => {
    const client = connect('mqtt://127.0.0.1:1884', { manualConnect: true });
    expect(currentBroker(client)).toBe('127.0.0.1:1884');
    client.options.hostname = '::1';
    client.options.port = 1885;
    expect(currentBroker(client)).toBe('[::1]:1885');
  });

  it.each([
    [1, 'a 3.1.1 broker answering CONNACK 1 (NATS)'],
    [0x84, 'an MQTT 5 CONNACK 0x84 Unsupported Protocol Version'],
  ])('an MQTT 5 CONNECT refused with code %s (%s) says which version to set', (code) => {
    const error = Object.assign(new Error('Connection refused'), { code });
    const where = { url: 'mqtt://b:1883', hostPort: 'b:1883', protocolVersion: 5 };
    expect(classifyConnectError(error, where).message).toBe(MQTT5_REFUSED('b:1883'));
    expect(MQTT5_REFUSED('b:1883')).toContain('Set MQTT_PROTOCOL_VERSION=MQTTv311.');
  });

  it('code 1 on MQTT 3.1.1 stays the ordinary refusal', () => {
    const error = Object.assign(new Error('Connection refused'), { code: 1 });
    const where = { url: 'mqtt://b:1883', hostPort: 'b:1883', protocolVersion: 4 };
    expect(classifyConnectError(error, where).message).toContain('unacceptable protocol version');
    expect(classifyConnectError(error, where).message).not.toContain('MQTTv311');
  });
});
