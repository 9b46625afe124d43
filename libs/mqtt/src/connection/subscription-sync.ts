import type { ISubscriptionGrant, MqttClient } from 'mqtt';
import { MqttSubscribeError } from '../errors/mqtt-subscribe.error';
import * as messages from '../mqtt.messages';
import type { MqttEventBus } from '../mqtt-event-bus';
import type { MqttBrokerSubscription, MqttRouter } from '../routing/mqtt.router';
import { subscribeProblem, unsubscribeProblem, type BrokerLimits } from './broker-limits';

/**
 * Keeps the broker's subscriptions in step with the router's: sends SUBSCRIBE and reports each
 * SUBACK code, resubscribes what a resumed session lacks after a reconnect, and remembers
 * unsubscribes made while offline.
 */
export class SubscriptionSync {
  /** Filters unsubscribed while offline, sent when the connection is back. */
  private readonly offlineUnsubscribes = new Set<string>();
  /** MQTT 5 subscription identifiers, unless the broker said it has none (CONNACK). */
  useIdentifiers: boolean;

  constructor(
    private readonly client: MqttClient,
    private readonly router: MqttRouter,
    private readonly bus: MqttEventBus,
    private readonly protocolVersion: number,
    /** The broker's limits of the current connection (CONNACK). */
    private readonly limits: () => BrokerLimits,
  ) {
    this.useIdentifiers = protocolVersion === 5;
  }

  /**
   * After a CONNACK: a resumed session keeps what the broker granted, so only what it lacks is
   * sent (new subscriptions, raised QoS, earlier refusals, unsubscribes made while offline).
   */
  async resume(sessionPresent: boolean, failOnLimits = false): Promise<void> {
    const subs = this.router
      .brokerSubscriptions()
      .filter((s) => !sessionPresent || s.granted === undefined || s.granted >= 0x80);
    const unsubscribes = sessionPresent ? [...this.offlineUnsubscribes] : [];
    this.offlineUnsubscribes.clear();
    await Promise.all([
      this.subscribe(subs, false, failOnLimits),
      unsubscribes.length > 0 ? this.client.unsubscribeAsync(unsubscribes).catch(noop) : undefined,
    ]);
  }

  /** Sends UNSUBSCRIBE for `filters` now, or on the next connect when offline. */
  async unsubscribe(filters: string[]): Promise<void> {
    if (filters.length === 0) return;
    if (!this.client.connected) {
      // A persistent session would keep them at the broker: send them on the next connect.
      for (const filter of filters) this.offlineUnsubscribes.add(filter);
      return;
    }
    const problem = unsubscribeProblem(this.limits(), filters, this.protocolVersion);
    if (problem) throw new MqttSubscribeError(problem);
    await this.client.unsubscribeAsync(filters);
  }

  /**
   * Sends SUBSCRIBE for `subs` and reports each SUBACK code: granted, downgraded or refused.
   * `strict` (runtime subscribe) turns a refusal or failure into a rejection. What the broker's
   * limits forbid (wildcards, shared subscriptions, packet size) is never sent: it is logged, and
   * rejected when `failOnLimits` (runtime subscribe, and the bootstrap).
   */
  async subscribe(
    subs: MqttBrokerSubscription[],
    strict: boolean,
    failOnLimits = strict,
  ): Promise<void> {
    if (subs.length === 0) return;
    const refused = this.limitProblems(subs);
    if (refused.length > 0) {
      for (const text of refused) this.bus.log('error', text);
      if (failOnLimits) throw new MqttSubscribeError(refused.join(' '));
      return;
    }
    const problems: string[] = [];
    await Promise.all(
      this.batches(subs).map(async (batch) => {
        const codes = await this.send(batch, problems);
        if (codes) batch.forEach((sub, i) => this.report(sub, codes[i], problems));
      }),
    );
    if (strict && problems.length > 0) throw new MqttSubscribeError(problems.join(' '));
  }

  /** The texts of what the broker's limits forbid in these subscriptions, packet by packet. */
  private limitProblems(subs: MqttBrokerSubscription[]): string[] {
    const problems: string[] = [];
    for (const batch of this.batches(subs)) {
      const problem = subscribeProblem(
        this.limits(),
        batch.map((s) => ({ topic: s.filter, qos: s.qos, nl: s.nl, rap: s.rap, rh: s.rh })),
        this.protocolVersion,
        this.useIdentifiers ? batch[0].id : undefined,
      );
      if (problem) problems.push(problem);
    }
    return problems;
  }

  /**
   * MQTT 5 carries one subscription identifier per SUBSCRIBE packet, so one packet each: the
   * identifier tells which subscription each copy of a message came through.
   */
  private batches(subs: MqttBrokerSubscription[]): MqttBrokerSubscription[][] {
    return this.useIdentifiers ? subs.map((s) => [s]) : [subs];
  }

  private async send(
    batch: MqttBrokerSubscription[],
    problems: string[],
  ): Promise<number[] | undefined> {
    const v5 = this.protocolVersion === 5;
    const topics = Object.fromEntries(
      batch.map((s) => [
        s.filter,
        v5 ? { qos: s.qos, nl: s.nl, rap: s.rap, rh: s.rh } : { qos: s.qos },
      ]),
    );
    const opts = this.useIdentifiers
      ? { properties: { subscriptionIdentifier: batch[0].id } }
      : undefined;
    try {
      const grants = await this.client.subscribeAsync(topics, opts);
      return grants.map((g: ISubscriptionGrant) => g.qos);
    } catch (error) {
      // MQTT.js rejects the whole SUBSCRIBE when the SUBACK refuses any filter; the packet
      // still holds each filter's code. Without a packet it really failed (e.g. went offline).
      const granted = (error as { packet?: { granted?: number[] } }).packet?.granted;
      if (Array.isArray(granted)) return granted;
      for (const s of batch) {
        const text = messages.SUBSCRIBE_FAILED(s.filter, (error as Error).message);
        this.bus.log('error', text);
        problems.push(text);
      }
      return undefined;
    }
  }

  private report(sub: MqttBrokerSubscription, code: number | undefined, problems: string[]) {
    if (code === undefined) return;
    this.router.setGranted(sub.filter, code);
    this.bus.emit({ type: 'subscribe', filter: sub.filter, qos: sub.qos, granted: code });
    if (code >= 0x80) {
      const text = messages.SUBSCRIBE_REFUSED(sub.filter, code);
      this.bus.log('error', text);
      problems.push(text);
    } else if (code < sub.qos) {
      // Also where the QoS asked exceeds the broker's Maximum QoS: a warning, not an error.
      this.bus.log('warn', messages.SUBSCRIBE_DOWNGRADED(sub.filter, sub.qos, code));
    }
  }
}

function noop(): void {}
