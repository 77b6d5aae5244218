import type { FastifyInstance } from 'fastify';
import { scheduleJob } from '../../jobs.js';
import { callTtlSeconds, expireDueCalls } from './service.js';

/**
 * How often the sweep runs: four times per call lifetime, at most every 15 s (so a 3-hour call ends
 * within 15 s of its expiry) and at least every 250 ms (only short test lifetimes get there).
 * Reads never wait for the sweep: a call past its expiry is not live for them anyway.
 */
export const sweepIntervalMs = (ttlSeconds: number): number => Math.min(15_000, Math.max(250, (ttlSeconds * 1000) / 4));

/** Ends expired calls and broadcasts `call:ended`, also when no request comes in; one node at a time. */
export function scheduleCallExpiry(app: FastifyInstance) {
  // call:ended goes out just before the sweep's transaction commits. Harmless if the commit failed:
  // a call past its expiry is not live for any read, and the next sweep ends it for good.
  return scheduleJob(app, 'calls:expire', sweepIntervalMs(callTtlSeconds(app.config)), async (trx) => {
    await expireDueCalls(app, trx);
  });
}
