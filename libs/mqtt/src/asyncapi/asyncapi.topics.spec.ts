import { channelId, filterAddress, topicAddress } from './asyncapi.topics';

describe('filterAddress (subscribed filter to channel address)', () => {
  it('turns named wildcards into parameters: +deviceId and #path', () => {
    expect(filterAddress('sensors/+deviceId/temp')).toEqual({
      address: 'sensors/{deviceId}/temp',
      parameters: {
        deviceId: { description: 'Topic level 2, any value (MQTT wildcard "+deviceId").' },
      },
      share: undefined,
    });
    const logs = filterAddress('logs/+app/#path');
    expect(logs.address).toBe('logs/{app}/{path}');
    expect(Object.keys(logs.parameters)).toEqual(['app', 'path']);
    expect(logs.parameters.path.description).toContain('"/" included; may be empty');
  });

  it('names anonymous wildcards by level (+) and "rest" (#), never clashing with named ones', () => {
    expect(filterAddress('a/+/b/#').address).toBe('a/{level2}/b/{rest}');
    expect(filterAddress('+/+level1/x').address).toBe('{level1_}/{level1}/x');
    expect(filterAddress('#').address).toBe('{rest}');
  });

  it('removes a $share/<group>/ prefix and returns the group', () => {
    expect(filterAddress('$share/workers/jobs/+id')).toMatchObject({
      address: 'jobs/{id}',
      share: 'workers',
    });
  });

  it('keeps a filter without wildcards as it is, $SYS topics included', () => {
    expect(filterAddress('demo/stats/get')).toEqual({
      address: 'demo/stats/get',
      parameters: {},
      share: undefined,
    });
    expect(filterAddress('$SYS/broker/uptime').address).toBe('$SYS/broker/uptime');
  });

  it('rejects an invalid filter with the module error', () => {
    expect(() => filterAddress('a/#/b')).toThrow('Invalid MQTT topic filter "a/#/b"');
  });
});

describe('topicAddress (declared publish topic to channel address)', () => {
  it('accepts {name} and +name levels as parameters', () => {
    expect(topicAddress('alerts/{deviceId}')).toEqual({
      address: 'alerts/{deviceId}',
      parameters: { deviceId: { description: 'Topic level "deviceId".' } },
    });
    expect(topicAddress('alerts/+deviceId/x').address).toBe('alerts/{deviceId}/x');
    expect(topicAddress('demo/stats')).toEqual({ address: 'demo/stats', parameters: {} });
  });
});

describe('channelId', () => {
  it('joins levels with dots and keeps only characters AsyncAPI ids allow', () => {
    expect(channelId('sensors/{deviceId}/temp')).toBe('sensors.deviceId.temp');
    expect(channelId('$SYS/broker')).toBe('_SYS.broker');
    expect(channelId('/a//b')).toBe('_.a._.b');
  });
});
