import { OutboundWindow, type WindowPermit } from './outbound-window';

/** Lets pending promise callbacks run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('OutboundWindow (MQTT-3.3.4-7)', () => {
  it('serves up to the limit at once, then each caller as a slot frees, in call order', async () => {
    const window = new OutboundWindow();
    window.open(2);
    const granted: number[] = [];
    const permits: WindowPermit[] = [];
    for (let i = 0; i < 5; i++) {
      void window.acquire().then((p) => {
        granted.push(i);
        permits.push(p);
      });
    }
    await settle();
    expect(granted).toEqual([0, 1]);
    expect(window.inFlight).toBe(2);
    expect(window.waiting).toBe(3);
    permits[1].release();
    await settle();
    expect(granted).toEqual([0, 1, 2]);
    permits[0].release();
    permits[2].release();
    await settle();
    expect(granted).toEqual([0, 1, 2, 3, 4]);
    expect(window.inFlight).toBe(2);
  });

  it('a permit released twice frees one slot', async () => {
    const window = new OutboundWindow();
    window.open(1);
    const first = await window.acquire();
    const second = window.acquire();
    const third = window.acquire();
    first.release();
    first.release();
    await settle();
    expect(window.inFlight).toBe(1);
    expect(window.waiting).toBe(1);
    (await second).release();
    (await third).release();
    expect(window.inFlight).toBe(0);
  });

  it('waits while no connection is up, and serves on open()', async () => {
    const window = new OutboundWindow();
    expect(window.tryAcquire()).toBeUndefined();
    let got = false;
    void window.acquire().then(() => (got = true));
    await settle();
    expect(got).toBe(false);
    window.open(10);
    await settle();
    expect(got).toBe(true);
  });

  it('voids the permits of a lost connection, and resizes to the next CONNACK', async () => {
    const window = new OutboundWindow();
    window.open(3);
    const old = [await window.acquire(), await window.acquire(), await window.acquire()];
    window.suspend();
    expect(window.inFlight).toBe(0);
    const granted: number[] = [];
    for (let i = 0; i < 3; i++) void window.acquire().then(() => granted.push(i));
    window.open(1);
    await settle();
    expect(granted).toEqual([0]);
    // Releases from the old connection must not free slots of the new one.
    for (const p of old) p.release();
    await settle();
    expect(granted).toEqual([0]);
    expect(window.limit).toBe(1);
  });

  it('keeps order: tryAcquire does not jump the queue', async () => {
    const window = new OutboundWindow();
    window.open(1);
    const held = await window.acquire();
    const queued = window.acquire();
    held.release();
    expect(window.tryAcquire()).toBeUndefined();
    await expect(queued).resolves.toBeDefined();
  });

  it('rejects waiting and later callers on close()', async () => {
    const window = new OutboundWindow();
    window.open(1);
    await window.acquire();
    const waiting = window.acquire();
    window.close(new Error('closed'));
    await expect(waiting).rejects.toThrow('closed');
    await expect(window.acquire()).rejects.toThrow('closed');
    window.open(5);
    expect(window.opened).toBe(false);
  });

  it('gives up waiting when the signal aborts, and the queue moves on without it', async () => {
    const window = new OutboundWindow();
    window.open(1);
    const held = await window.acquire();
    const controller = new AbortController();
    const abandoned = window.acquire(controller.signal);
    const next = window.acquire();
    controller.abort();
    await expect(abandoned).rejects.toThrow(/abandoned while it waited for one of the 1/);
    held.release();
    await expect(next).resolves.toBeDefined();
    await expect(window.acquire(AbortSignal.abort(new Error('timeout')))).rejects.toThrow(
      'timeout',
    );
  });

  it('clamps a limit outside 1-65535', () => {
    const window = new OutboundWindow();
    window.open(0);
    expect(window.limit).toBe(65535);
    window.open(1e9);
    expect(window.limit).toBe(65535);
  });
});
