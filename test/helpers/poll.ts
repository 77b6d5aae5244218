/**
 * Polls `check` until it is true; throws naming `what` after `timeoutMs`. For states with no event
 * to await (a metric, /readyz, a lock in pg_locks); the interval only bounds how often it asks.
 */
export async function pollUntil(
  check: () => Promise<boolean> | boolean,
  { what = 'a condition', timeoutMs = 5_000, intervalMs = 10 }: { what?: string; timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The value of one sample line of Prometheus text, e.g. `engawa_flags_open{priority="urgent"}`. */
export function metricSample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}
