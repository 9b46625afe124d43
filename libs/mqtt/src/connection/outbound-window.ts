import { MAX_RECEIVE_MAXIMUM } from './broker-limits';
import * as messages from './connection.messages';

/** One slot of the window, held from sending a QoS 1/2 PUBLISH until its acknowledgement. */
export interface WindowPermit {
  /** Frees the slot (PUBACK, PUBCOMP, PUBREC >= 0x80, or a failed send). Idempotent. */
  release(): void;
}

interface Waiter {
  readonly grant: (permit: WindowPermit) => void;
  readonly fail: (error: Error) => void;
}

/**
 * The client side of MQTT 5 flow control (MQTT-3.3.4-7): at most Receive Maximum QoS 1/2
 * PUBLISHes unacknowledged at once. Take a permit before sending such a PUBLISH, release it when
 * the broker acknowledged it; callers beyond the limit wait, and are served in call order.
 *
 * The window is per connection: {@link open} starts one with the limit of the new CONNACK, and
 * {@link suspend} (connection lost) voids the permits given out, whose packets MQTT.js resends
 * itself, one at a time, before it reports the next connect. While suspended, callers wait.
 * Only PUBLISH packets are held back: nothing else is delayed by a full window (MQTT-3.3.4-8).
 */
export class OutboundWindow {
  private max = MAX_RECEIVE_MAXIMUM;
  private used = 0;
  private isOpen = false;
  /** Bumped by open/suspend: permits of an older connection release nothing. */
  private generation = 0;
  private readonly waiters: Waiter[] = [];
  private closedWith?: Error;

  /** The slots of the current connection (its Receive Maximum). */
  get limit(): number {
    return this.max;
  }

  /** Permits held now. */
  get inFlight(): number {
    return this.used;
  }

  /** Callers waiting for a permit. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Whether a connection is up and the window serves permits. */
  get opened(): boolean {
    return this.isOpen;
  }

  /**
   * A new connection with `limit` slots (its CONNACK's Receive Maximum; 65535 when absent):
   * earlier permits are void, and waiting callers are served up to the limit.
   */
  open(limit: number): void {
    if (this.closedWith) return;
    this.generation++;
    this.max = Math.max(1, Math.min(Math.floor(limit) || MAX_RECEIVE_MAXIMUM, MAX_RECEIVE_MAXIMUM));
    this.used = 0;
    this.isOpen = true;
    this.serve();
  }

  /** The connection is lost: the permits given out are void; new callers wait for {@link open}. */
  suspend(): void {
    this.generation++;
    this.used = 0;
    this.isOpen = false;
  }

  /** Shutdown: every waiting and future caller is rejected with `error`. */
  close(error: Error = new Error(messages.WINDOW_CLOSED())): void {
    this.suspend();
    this.closedWith = error;
    for (const waiter of this.waiters.splice(0)) waiter.fail(error);
  }

  /** A permit now if a slot is free and nobody waits before the caller; otherwise undefined. */
  tryAcquire(): WindowPermit | undefined {
    if (!this.isOpen || this.used >= this.max || this.waiters.length > 0) return undefined;
    return this.take();
  }

  /**
   * Resolves with a permit once a slot is free, after every earlier caller. Rejects when the
   * window closes, or when `signal` aborts first (with its reason, if an Error).
   */
  acquire(signal?: AbortSignal): Promise<WindowPermit> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const now = this.tryAcquire();
    if (now) return Promise.resolve(now);
    if (signal?.aborted) return Promise.reject(this.abortError(signal));
    return new Promise<WindowPermit>((resolve, reject) => {
      const onAbort = () => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(this.abortError(signal!));
      };
      const waiter: Waiter = {
        grant: (permit) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(permit);
        },
        fail: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private take(): WindowPermit {
    this.used++;
    const generation = this.generation;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        if (generation !== this.generation) return;
        this.used--;
        this.serve();
      },
    };
  }

  private serve(): void {
    while (this.isOpen && this.used < this.max && this.waiters.length > 0) {
      this.waiters.shift()!.grant(this.take());
    }
  }

  private abortError(signal: AbortSignal): Error {
    return signal.reason instanceof Error
      ? signal.reason
      : new Error(messages.WINDOW_WAIT_ABORTED(this.max));
  }
}
