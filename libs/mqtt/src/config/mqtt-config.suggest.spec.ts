import { MQTT_CONFIG_KEYS } from './mqtt-config.constants';
import { editDistance, suggestKey } from './mqtt-config.suggest';

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['abc', 'abc', 0],
    ['', 'abc', 3],
    ['abc', '', 3],
    ['kitten', 'sitting', 3],
    ['PORT', 'PROT', 1],
    ['ab', 'ba', 1],
    ['abcd', 'acbd', 1],
    ['ca', 'abc', 3],
    ['MQTT_KEEPALIVE', 'MQTT_KEEP_ALIVE', 1],
  ])('%p -> %p is %p', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
    expect(editDistance(b, a)).toBe(distance);
  });
});

describe('suggestKey', () => {
  it.each([
    ['MQTT_BROKER_PROT', 'MQTT_BROKER_PORT'],
    ['MQTT_BROKER_ULR', 'MQTT_BROKER_URL'],
    ['MQTT_BROKER_HOST', 'MQTT_BROKER_PORT'],
    ['MQTT_USER_NAME', 'MQTT_USERNAME'],
    ['MQTT_USER', 'MQTT_USERNAME'],
    ['MQTT_PASS', 'MQTT_PASSWORD'],
    ['MQTT_PROTOCOL', 'MQTT_PROTOCOL_VERSION'],
    ['MQTT_TLS', 'MQTT_TLS_ENABLED'],
    ['MQTT_WS', 'MQTT_WS_PATH'],
    ['MQTT_TLS_CA_CERT', 'MQTT_TLS_CA_CERTS'],
    ['MQTT_TLS_CERTFILES', 'MQTT_TLS_CERTFILE'],
    ['MQTT_LAST_WILL', 'MQTT_LAST_WILL_QOS'],
    ['MQTT_CLEAN_SESSIONS', 'MQTT_CLEAN_SESSION'],
    ['MQTT_CONNECT_TIMEOUT', 'MQTT_CONNECTION_TIMEOUT'],
    ['MQTT_RECONNECT_PERIOD_SECONDS', 'MQTT_RECONNECT_PERIOD'],
    ['mqtt_keepalive', 'MQTT_KEEPALIVE'],
  ])('suggests for %s: %s', (unknown, expected) => {
    expect(suggestKey(unknown, MQTT_CONFIG_KEYS)).toBe(expected);
  });

  it.each(['MQTT_SOMETHING_ELSE', 'MQTT_', 'MQTT_X', 'MQTT_DATABASE_URL', 'MQTT_FOO'])(
    'suggests nothing for %s',
    (unknown) => {
      expect(suggestKey(unknown, MQTT_CONFIG_KEYS)).toBeUndefined();
    },
  );

  it('suggests nothing from an empty list', () => {
    expect(suggestKey('MQTT_BROKER_PROT', [])).toBeUndefined();
  });
});
