/**
 * The publisher of the fault suite: a plain MQTT.js client of its own (never the app's) that
 * publishes numbered messages (payload: the decimal sequence number) with at most `window`
 * unacknowledged at once. It reconnects by itself (MQTT.js resends its unacknowledged QoS 1
 * PUBLISHes), so it can keep going through a broker restart. A message counts as sent once the
 * broker acknowledged it (QoS 1) or it was written (QoS 0).
 */
import type { MqttClient } from 'mqtt';

import { closeClient, connectClient, randomClientId } from '../../support';

/** Options of {@link SequencePublisher.connect}. */
export interface SequencePublisherOptions {
  readonly url: string;
  /** The topic, or the topic of message `n`. */
  readonly topic: string | ((n: number) => string);
  /** @default 1 */
  readonly qos?: 0 | 1;
  /** Most unacknowledged publishes at once. @default 100 */
  readonly window?: number;
  /** Reconnect period in ms, for surviving broker restarts. @default 200 */
  readonly reconnectPeriod?: number;
  /** Payload bytes: the number padded with spaces. @default no padding */
  readonly size?: number;
}

export class SequencePublisher {
  /** The sequence numbers acknowledged (QoS 1) or written (QoS 0), in order of completion. */
  readonly sent: number[] = [];
  /** Publishes that failed (the client was ended), with their error. */
  readonly failed: Array<{ n: number; error: string }> = [];
  private next = 0;
  private inFlight = 0;
  private wake?: () => void;

  private constructor(
    readonly client: MqttClient,
    private readonly options: SequencePublisherOptions,
  ) {}

  static async connect(options: SequencePublisherOptions): Promise<SequencePublisher> {
    const client = await connectClient(options.url, {
      clientId: randomClientId('seqpub'),
      reconnectPeriod: options.reconnectPeriod ?? 200,
      connectTimeout: 2000,
    });
    client.on('error', () => undefined); // refusals while the broker restarts: it retries
    return new SequencePublisher(client, options);
  }

  /** The next sequence number to publish (= how many were started). */
  get started(): number {
    return this.next;
  }

  /**
   * Publishes the numbers from where it stopped up to `end - 1` and resolves once every one of
   * them is acknowledged; rejects after `timeoutMs` saying how far it got.
   */
  async sendUntil(end: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const window = this.options.window ?? 100;
    while (this.next < end || this.inFlight > 0) {
      if (Date.now() > deadline) {
        throw new Error(
          `publisher: ${this.sent.length} of ${end} acknowledged after ${timeoutMs} ms ` +
            `(${this.inFlight} unacknowledged, connected: ${this.client.connected})`,
        );
      }
      if (this.next < end && this.inFlight < window) {
        this.publishOne(this.next++);
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 250); // look at the deadline now and then
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  close(): Promise<void> {
    return closeClient(this.client);
  }

  private publishOne(n: number): void {
    this.inFlight++;
    const { topic, qos = 1, size = 0 } = this.options;
    const name = typeof topic === 'string' ? topic : topic(n);
    this.client.publish(name, String(n).padEnd(size, ' '), { qos }, (error) => {
      this.inFlight--;
      if (error) this.failed.push({ n, error: error.message });
      else this.sent.push(n);
      this.wake?.();
    });
  }
}
