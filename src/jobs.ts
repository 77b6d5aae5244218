import type { FastifyInstance } from 'fastify';
import type { Transaction } from 'kysely';
import { tryAdvisoryXactLock } from './db/locks.js';
import type { DB } from './db/schema.js';

/**
 * Runs `work` every `intervalMs` on this node, but on only one node at a time: each run holds a
 * transaction-level advisory lock, so with several nodes the others skip that tick. Work must be
 * idempotent (it may run again on another node on the next tick). Stops when the app closes.
 */
export function scheduleJob(
  app: FastifyInstance,
  name: string,
  intervalMs: number,
  work: (trx: Transaction<DB>) => Promise<void>,
): { runNow: () => Promise<boolean> } {
  let running = false;
  const runNow = async (): Promise<boolean> => {
    if (running) return false;
    running = true;
    try {
      return await app.db.transaction().execute(async (trx) => {
        if (!(await tryAdvisoryXactLock(trx, `job:${name}`))) return false;
        await work(trx);
        return true;
      });
    } catch (err) {
      app.log.warn({ err, job: name }, 'background job failed; will retry');
      return false;
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void runNow(), intervalMs);
  timer.unref();
  app.addHook('onClose', async () => clearInterval(timer));
  return { runNow };
}
