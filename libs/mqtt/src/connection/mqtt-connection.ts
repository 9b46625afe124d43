import { connect, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Duplex } from 'node:stream';
import { toMqttConnectOptions } from '../config/mqtt-client-options';
import { MqttConnectionError } from '../errors/mqtt-connection.error';
import type { MqttConfig } from '../interfaces/mqtt-config.interface';
import type { MqttStatus } from '../interfaces/mqtt-service.interface';
import * as messages from '../mqtt.messages';
import type { MqttEventBus } from '../mqtt-event-bus';
import type { MqttRouter } from '../routing/mqtt.router';
import { reconnectDelay } from './backoff';
import { currentBroker } from './current-broker';
import { classifyConnectError } from './connect-errors';
import { awaitFirstConnection } from './first-connection';
import { ConnectionHealth } from './connection-health';
import { InboundAcks } from './inbound-acks';
import {
  batchDrainCallbacks,
  markRedeliveries,
  missingMqttClientInternals,
  rearmReconnect,
  stopReconnecting,
  watchStreams,
} from './mqtt-client.internals';
import { MqttOutbound } from './mqtt-outbound';
import { probeSharedSubscriptions, sharedGroups } from './shared-probe';
import { SubscriptionSync } from './subscription-sync';

/**
 * What the receiving side answers for each PUBLISH: `undefined` to acknowledge at once, else a
 * promise of whether to acknowledge (true) or withhold the acknowledgement (false, shutdown).
 */
export type MqttInbound = (packet: IPublishPacket) => Promise<boolean> | undefined;

/**
 * Owns the MQTT.js client: connects, reconnects with backoff, acknowledges received messages in
 * order once the inbound side settled them, keeps subscriptions in step, and disconnects.
 */
export class MqttConnection {
  readonly client: MqttClient;
  readonly url: string;
  readonly outbound: MqttOutbound;
  readonly subscriptions: SubscriptionSync;
  private readonly hostPort: string;
  private readonly acks: InboundAcks;
  private readonly health: ConnectionHealth;
  private everConnected = false;
  private closing = false;
  private lastStreamError?: Error & { code?: string };
  private streamOpenedAt = 0;
  private ready: Promise<void> = Promise.resolve();

  constructor(
    private readonly config: MqttConfig,
    clientOptions: Partial<IClientOptions> | undefined,
    private readonly router: MqttRouter,
    private readonly bus: MqttEventBus,
    private readonly inbound: MqttInbound,
  ) {
    const { url, options } = toMqttConnectOptions(config);
    this.url = url;
    this.hostPort = `${config.host}:${config.port}`;
    this.health = new ConnectionHealth(bus, config, () => this.brokerUrl());
    this.client = connect(url, {
      ...options,
      ...clientOptions,
      manualConnect: true,
      resubscribe: false,
      queueQoSZero: true,
      // A refusal (bad password, broker busy) is retried like any other loss, with backoff.
      reconnectOnConnackError: true,
      // MQTT.js must not give up reconnecting; the module stops it itself at shutdown.
      reconnectPeriod: config.reconnectPeriod > 0 ? config.reconnectPeriod : 0,
    });
    const missing = missingMqttClientInternals(this.client);
    if (missing.length > 0) throw new MqttConnectionError(messages.MQTT_JS_CHANGED(missing));
    this.client.handleMessage = (packet, callback) => this.onPublish(packet, callback);
    watchStreams(this.client, (stream) => this.onStream(stream));
    batchDrainCallbacks(this.client);
    // MQTT-3.3.1-1: resends after a reconnect carry DUP=1.
    markRedeliveries(this.client);
    this.acks = new InboundAcks(this.client);
    this.outbound = new MqttOutbound(this.client, config, () => this.canPublish());
    this.subscriptions = new SubscriptionSync(
      this.client,
      router,
      bus,
      config.protocolVersion,
      () => this.outbound.limits,
    );
    this.wire();
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** The connection's health, for `MqttService.status()` and health checks. */
  snapshot(): Omit<MqttStatus, 'name'> {
    return this.health.snapshot(this.client.connected);
  }

  /** Connects and resolves after CONNACK and the first SUBACKs, or rejects (bounded in time). */
  async open(): Promise<void> {
    this.bus.log('log', messages.CONNECTING(this.url, this.client.options.clientId ?? ''));
    this.bus.setState('connecting');
    try {
      await this.firstConnection();
      if (this.config.probeShared) {
        const filters = this.router.brokerSubscriptions().map((s) => s.filter);
        await probeSharedSubscriptions(this.client, sharedGroups(filters));
      }
    } catch (error) {
      if (this.config.connectInBackground) {
        this.bus.log('warn', messages.CONNECT_IN_BACKGROUND(this.url, (error as Error).message));
        return;
      }
      await this.close();
      throw error;
    }
  }

  /** Stops reconnecting and disconnects: gracefully (DISCONNECT, so no will) when connected. */
  async close(): Promise<void> {
    this.closing = true;
    this.outbound.close();
    this.health.stopSummary();
    const client = this.client;
    stopReconnecting(client);
    // Never opened (the app was compiled, not started): MQTT.js has no socket to end.
    if (!client.stream) {
      this.bus.setState('closed');
      return;
    }
    if (client.connected) {
      let timer: NodeJS.Timeout | undefined;
      const forced = new Promise<boolean>((resolve) => {
        timer = setTimeout(
          () => resolve(false),
          Math.max(1000, Math.min(this.config.shutdownTimeout, 5000)),
        );
      });
      const done = await Promise.race([client.endAsync(false).then(() => true), forced]);
      clearTimeout(timer);
      // A graceful end still waiting for acknowledgements makes a forced end() a no-op in
      // MQTT.js: close the socket ourselves so nothing keeps the process alive.
      if (!done) client.stream?.destroy();
    }
    await client.endAsync(true);
    this.bus.setState('closed');
  }

  /** Whether `publish()` may queue now; else the reason it may not. */
  private canPublish(): string | undefined {
    if (this.client.connected) return undefined;
    if (this.bus.state === 'closed' || this.closing) return messages.CLIENT_CLOSED();
    if (this.everConnected && this.config.reconnectPeriod === 0) {
      return messages.OFFLINE_NO_RECONNECT();
    }
    return undefined;
  }

  /**
   * Called by MQTT.js for every incoming PUBLISH (QoS 2: at PUBREL) before it acknowledges.
   * The client always reads on, so acknowledgements, SUBACKs and PINGRESPs are never starved;
   * a QoS 1/2 acknowledgement waits for the inbound side, in arrival order.
   */
  private onPublish(packet: IPublishPacket, callback: (error?: Error) => void): void {
    this.health.messageArrived();
    const running = this.acks.runningQos2(packet);
    const settled = running ?? this.inbound(packet);
    if (packet.qos === 0) {
      callback();
      return;
    }
    // Acknowledged by the module, also when the handlers already finished: MQTT.js would write
    // each PUBACK and wait for that write before reading the next packet; the module writes the
    // acknowledgements of a whole read together. An error tells MQTT.js not to acknowledge
    // itself, and to go on with the next packet.
    this.acks.defer(packet, settled ?? true);
    callback(ACK_DEFERRED);
  }

  /** The broker in use: with a list, MQTT.js sets options.host/port to each one it tries. */
  private brokerUrl(): string {
    return this.config.brokers.length > 1
      ? `${this.config.protocol}://${currentBroker(this.client)}`
      : this.url;
  }

  private onStream(stream: Duplex): void {
    this.lastStreamError = undefined;
    this.streamOpenedAt = Date.now();
    // MQTT.js keeps the TLS server name it derived for the first broker of a list; cleared, it
    // derives it again from the host of the next attempt.
    if (this.config.brokers.length > 1) {
      delete (this.client.options as { servername?: string }).servername;
    }
    stream.on('error', (error: Error & { code?: string }) => {
      this.lastStreamError = error;
    });
  }

  private firstConnection(): Promise<void> {
    return awaitFirstConnection({
      client: this.client,
      hostPort: this.hostPort,
      timeoutMs: this.config.connectionTimeout,
      // The 'connect' listener in wire() sends the subscriptions; their SUBACKs come within the
      // same time limit.
      ready: () => this.ready,
      lastStreamError: () => this.lastStreamError,
      describe: (error) => this.connectError(error),
      mqtt5: this.config.protocolVersion === 5,
      streamOpenedAt: () => this.streamOpenedAt,
    });
  }

  private connectError(error: Error & { code?: string | number }): MqttConnectionError {
    return classifyConnectError(error, {
      url: this.url,
      hostPort: this.hostPort,
      protocolVersion: this.config.protocolVersion,
    });
  }

  private wire(): void {
    const client = this.client;
    const bus = this.bus;
    client.on('connect', (connack) => {
      const stream = client.stream as { setNoDelay?: (on: boolean) => void } | undefined;
      stream?.setNoDelay?.(true);
      const first = !this.everConnected;
      this.everConnected = true;
      this.health.connected(connack.sessionPresent);
      rearmReconnect(client, this.config.reconnectPeriod);
      const broker = this.brokerUrl();
      bus.log('log', messages.CONNECTED(broker, connack.sessionPresent));
      bus.setState('connected');
      bus.emit({ type: 'connect', sessionPresent: connack.sessionPresent, broker });
      this.outbound.onConnect(connack);
      this.subscriptions.useIdentifiers =
        this.config.protocolVersion === 5 &&
        connack.properties?.subscriptionIdentifiersAvailable !== false;
      // A subscription the broker's limits forbid fails the bootstrap; later it is logged.
      const failOnLimits = first && !this.config.connectInBackground;
      this.ready = this.subscriptions.resume(connack.sessionPresent, failOnLimits);
      this.ready.catch(noop); // awaited by open() on the first connect only
    });
    client.on('reconnect', () => {
      const n = this.health.reconnecting();
      rearmReconnect(client, this.nextDelay(n));
      bus.setState('reconnecting');
      bus.emit({ type: 'reconnect', attempt: n });
    });
    client.on('close', () => {
      // Unsent acknowledgements belong to the old connection; the broker redelivers those.
      this.acks.reset();
      this.outbound.onClose();
      if (this.closing) return;
      if (this.config.reconnectPeriod === 0) {
        if (bus.state === 'connected') this.health.offline(this.url);
      } else if (bus.state === 'connected') {
        rearmReconnect(client, this.nextDelay(0));
        this.health.offline(this.url);
      }
      bus.emit({ type: 'close' });
    });
    client.on('disconnect', (packet) => {
      this.health.disconnected(packet.reasonCode ?? 0, packet.properties?.reasonString);
      bus.emit({ type: 'disconnect', reasonCode: packet.reasonCode ?? 0 });
    });
    client.on('error', (error) => {
      this.health.failed(this.connectError(error).message);
      bus.emit({ type: 'error', error });
      if (bus.state === 'connecting' && !this.everConnected && !this.config.connectInBackground) {
        return; // reported by open()
      }
      this.health.logError(error);
    });
  }

  private nextDelay(attempt: number): number {
    const base = this.config.reconnectPeriod;
    return reconnectDelay(attempt, base, Math.max(base, this.config.reconnectMaxPeriod));
  }
}

function noop(): void {}

const ACK_DEFERRED = new Error('nestjs-mqtt: acknowledgement deferred until the handlers settle');
