import type { IPublishPacket, MqttClient } from 'mqtt';
import { releaseIncomingQos2, sendDeferredAck } from './mqtt-client.internals';

interface PendingAck {
  readonly packet: IPublishPacket;
  /** undefined: still running; true: acknowledge; false: withhold (redelivered later). */
  verdict?: boolean;
}

/**
 * The acknowledgements of received QoS 1/2 messages whose handlers still run. They go out in
 * arrival order (MQTT-4.6.0-2), each once its handlers settled; a withheld one (shutdown) is
 * skipped, and the broker redelivers it to a persistent session.
 */
export class InboundAcks {
  private queue: PendingAck[] = [];
  private flushScheduled = false;
  /** QoS 2 messages whose handlers run, by message id: a repeated PUBREL must not rerun them. */
  private readonly qos2Running = new Map<number, Promise<boolean>>();

  constructor(private readonly client: MqttClient) {}

  /** The running handlers of a QoS 2 message MQTT.js hands over again (PUBREL repeated). */
  runningQos2(packet: IPublishPacket): Promise<boolean> | undefined {
    return packet.qos === 2 ? this.qos2Running.get(packet.messageId as number) : undefined;
  }

  /**
   * Acknowledges `packet` once `settled` resolves true (or skips it on false), after every
   * message that arrived before it.
   */
  defer(packet: IPublishPacket, settled: Promise<boolean> | true): void {
    const ack: PendingAck = { packet };
    this.queue.push(ack);
    const id = packet.messageId as number;
    if (settled === true) {
      ack.verdict = true;
      if (packet.qos === 2) releaseIncomingQos2(this.client, packet);
      this.scheduleFlush();
      return;
    }
    const repeated = packet.qos === 2 && this.qos2Running.get(id) === settled;
    if (packet.qos === 2 && !repeated) this.qos2Running.set(id, settled);
    void settled.then((verdict) => {
      if (packet.qos === 2 && !repeated) {
        this.qos2Running.delete(id);
        if (verdict) releaseIncomingQos2(this.client, packet);
      }
      ack.verdict = verdict;
      this.flush();
    });
  }

  /** Forgets what belongs to the old connection: the broker redelivers those messages. */
  reset(): void {
    this.queue = [];
  }

  /**
   * Flushes once MQTT.js has handed over every packet of the current read (it hands them over
   * in process.nextTick callbacks, which all run before a microtask): their acknowledgements
   * then leave in one write.
   */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const queue = this.queue;
    while (queue.length > 0 && queue[0].verdict !== undefined) {
      const { packet, verdict } = queue.shift()!;
      if (verdict && this.client.connected) sendDeferredAck(this.client, packet);
    }
  }
}
