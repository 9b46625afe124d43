/**
 * The delay before reconnect attempt `attempt` (0 for the first after a loss): exponential from
 * `baseMs`, capped at `capMs`, with jitter so that many clients cut off together do not come
 * back together. The delay lies between half and all of `min(capMs, baseMs * 2^attempt)`.
 */
export function reconnectDelay(
  attempt: number,
  baseMs: number,
  capMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.max(1, Math.round(ceiling / 2 + (random() * ceiling) / 2));
}
