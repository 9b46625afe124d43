/** Largest edit distance at which a known key is suggested for an unknown one. */
export const MQTT_SUGGESTION_MAX_DISTANCE = 3;

// 'MQTT_' and two more characters: a bare 'MQTT_' is a prefix of everything.
const MIN_PREFIX_LENGTH = 7;

/**
 * Damerau–Levenshtein distance (optimal string alignment): the number of
 * insertions, deletions, substitutions and swaps of two neighbouring characters
 * that turn `a` into `b`.
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[rows - 1][cols - 1];
}

/**
 * The known key an unknown one was probably meant to be, compared without regard
 * to case: the nearest by {@link editDistance} when it is at most
 * {@link MQTT_SUGGESTION_MAX_DISTANCE}, else a known key that starts with the unknown
 * one or that the unknown one starts with (at least 7 characters in common) (`MQTT_PROTOCOL` → `MQTT_PROTOCOL_VERSION`);
 * ties go to the key listed first. `undefined` when nothing is close.
 */
export function suggestKey(unknown: string, known: readonly string[]): string | undefined {
  const word = unknown.toUpperCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const key of known) {
    const distance = editDistance(word, key.toUpperCase());
    if (distance < bestDistance) {
      best = key;
      bestDistance = distance;
    }
  }
  if (best !== undefined && bestDistance <= MQTT_SUGGESTION_MAX_DISTANCE) return best;

  const related = known.filter((key) => {
    const upper = key.toUpperCase();
    const shorter = Math.min(upper.length, word.length);
    return shorter >= MIN_PREFIX_LENGTH && (upper.startsWith(word) || word.startsWith(upper));
  });
  if (related.length === 0) return undefined;
  return related.reduce((a, b) =>
    Math.abs(b.length - word.length) < Math.abs(a.length - word.length) ? b : a,
  );
}
