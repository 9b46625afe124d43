import { reconnectDelay } from './backoff';

describe('reconnectDelay', () => {
  it('doubles from the base until the cap', () => {
    const top = (n: number) => reconnectDelay(n, 1000, 30_000, () => 1);
    expect([0, 1, 2, 3, 4, 5, 6].map(top)).toEqual([
      1000, 2000, 4000, 8000, 16_000, 30_000, 30_000,
    ]);
  });

  it('jitters between half and all of the ceiling', () => {
    expect(reconnectDelay(2, 1000, 30_000, () => 0)).toBe(2000);
    expect(reconnectDelay(2, 1000, 30_000, () => 0.5)).toBe(3000);
    for (let i = 0; i < 100; i++) {
      const d = reconnectDelay(3, 1000, 30_000);
      expect(d).toBeGreaterThanOrEqual(4000);
      expect(d).toBeLessThanOrEqual(8000);
    }
  });

  it('never overflows for large attempt counts and never returns 0', () => {
    expect(reconnectDelay(10_000, 1000, 30_000, () => 1)).toBe(30_000);
    expect(reconnectDelay(0, 1, 1, () => 0)).toBe(1);
  });
});
