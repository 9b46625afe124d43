import { Logger } from '@nestjs/common';
import type { MqttEvent } from './interfaces/mqtt-service.interface';
import { MqttEventBus } from './mqtt-event-bus';

describe('MqttEventBus: lines held until the listeners are in place', () => {
  let warn: jest.SpyInstance;

  beforeEach(() => {
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => warn.mockRestore());

  function listen(bus: MqttEventBus): MqttEvent[] {
    const events: MqttEvent[] = [];
    bus.events$.subscribe((e) => events.push(e));
    return events;
  }

  it('logs a held line once listenersReady() is called, to Nest and to listeners, once', () => {
    const bus = new MqttEventBus('default');
    bus.logWhenListened('warn', 'MQTT_X is odd');
    expect(warn).not.toHaveBeenCalled();
    const events = listen(bus);
    bus.listenersReady();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith('MQTT_X is odd');
    expect(events).toEqual([{ type: 'log', level: 'warn', message: 'MQTT_X is odd' }]);
    bus.listenersReady();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(events).toHaveLength(1);
  });

  it('logs at once once the listeners are ready', () => {
    const bus = new MqttEventBus('backup');
    bus.listenersReady();
    const events = listen(bus);
    bus.logWhenListened('warn', 'late');
    expect(warn).toHaveBeenCalledTimes(1);
    expect(events).toEqual([{ type: 'log', level: 'warn', message: 'late', connection: 'backup' }]);
  });
});
