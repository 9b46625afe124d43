/**
 * The reason to report for a handler's error; for Nest's HttpException, its response message.
 * Never throws, whatever the handler threw (a null-prototype object, a throwing `toString`).
 */
export function describeError(error: unknown): string {
  try {
    const response = (error as { getResponse?: () => unknown } | null)?.getResponse?.();
    const detail = (response as { message?: unknown } | undefined)?.message;
    if (Array.isArray(detail)) return detail.map((d) => describeError(d)).join('; ');
    if (typeof detail === 'string') return detail;
    return error instanceof Error ? error.message : String(error);
  } catch {
    return `a value that cannot be shown as text (${Object.prototype.toString.call(error)})`;
  }
}
