import type { IPublishPacket } from 'mqtt';
import type { MqttMessage, MqttUserProperties } from './interfaces/mqtt-message.interface';

/**
 * The context of one MQTT handler call, as guards, interceptors and filters get it:
 * `context.switchToRpc().getContext<MqttContext>()`; `getData()` is the raw payload.
 */
export class MqttContext {
  private decoded?: { value: unknown };

  constructor(
    /** The message being handled. */
    readonly message: MqttMessage,
    private readonly decoder: (payload: Buffer) => unknown,
  ) {}

  getTopic(): string {
    return this.message.topic;
  }

  getPacket(): IPublishPacket {
    return this.message.packet;
  }

  getParams(): Readonly<Record<string, string>> {
    return this.message.params;
  }

  getUserProperties(): MqttUserProperties {
    return (this.message.packet.properties?.userProperties as MqttUserProperties) ?? {};
  }

  /** The payload decoded as the handler's `@Payload()` parameter asks (computed once). */
  getPayload(): unknown {
    this.decoded ??= { value: this.decoder(this.message.payload) };
    return this.decoded.value;
  }
}
