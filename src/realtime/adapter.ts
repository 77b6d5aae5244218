import type { FastifyInstance } from 'fastify';
import { createAdapter as createPostgresAdapter } from '@socket.io/postgres-adapter';
import { createAdapter as createRedisStreamsAdapter } from '@socket.io/redis-streams-adapter';
import { createClient } from 'redis';
import type { EngawaServer } from './realtime.js';

export type AdapterStatus = 'up' | 'degraded' | 'none';

/** Redis stream the nodes share; packets are trimmed to roughly this many entries. */
const REDIS_STREAM_OPTIONS = { streamName: 'engawa:socket.io', maxLen: 10_000, blockTimeInMs: 2_000 };
const ERROR_LOG_INTERVAL_MS = 10_000;

/**
 * Joins this node's Socket.IO server to the others (SOCKET_ADAPTER, resolved in secrets.ts):
 * - `redis`: @socket.io/redis-streams-adapter on a `redis` v5 client. A Redis blip does not crash the
 *   process: the client reconnects with backoff and the stream is read on from the last offset.
 * - `postgres`: @socket.io/postgres-adapter (LISTEN/NOTIFY) on the app's pool; the adapter keeps
 *   one pooled connection for its LISTEN and reconnects it by itself.
 * - `none`: one node, in memory.
 * Decorates `app.adapterStatus()` for /readyz and closes its clients when the app closes.
 */
type Redis = ReturnType<typeof createClient>;
/** Commands the adapter publishes with. While Redis is away they fail at once instead of queueing. */
const PUBLISHING = new Set(['xAdd', 'publish', 'sPublish', 'set', 'multi', 'xRange']);

/**
 * The adapter awaits its publish before delivering a packet to this node's own sockets, so a
 * queued command during a Redis outage would stall local delivery (and joins/leaves) until Redis
 * returns. This view of the client fails those publishes fast instead (the adapter logs and goes
 * on locally; other nodes' clients fill the gap through `room:catchup`). The stream readers it
 * duplicates keep the offline queue, so they resume from their last offset after a blip; they are
 * remembered so they can be closed.
 */
function failFastPublisher(client: Redis): { publisher: Redis; duplicates: Redis[] } {
  const duplicates: Redis[] = [];
  const publisher = new Proxy(client, {
    get(target, prop, receiver) {
      if (prop === 'duplicate') {
        return (...args: Parameters<Redis['duplicate']>) => {
          const copy = target.duplicate(...args) as Redis;
          // The adapter's reader calls disconnect() once aborted; after our own close that would throw.
          copy.disconnect = async () => {
            if (copy.isOpen) copy.destroy();
          };
          duplicates.push(copy);
          return copy;
        };
      }
      const value = Reflect.get(target, prop, receiver === publisher ? target : receiver);
      if (typeof value !== 'function') return value;
      if (typeof prop === 'string' && PUBLISHING.has(prop)) {
        return (...args: unknown[]) =>
          target.isReady ? (value as (...a: unknown[]) => unknown).apply(target, args) : Promise.reject(new Error('redis is not connected'));
      }
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
  return { publisher, duplicates };
}

export function attachAdapter(app: FastifyInstance, io: EngawaServer): void {
  const kind = app.config.SOCKET_ADAPTER;
  let status: () => AdapterStatus = () => 'none';
  let closeClients = async () => {};

  if (kind === 'redis' && app.config.REDIS_URL) {
    const client = createClient({
      url: app.config.REDIS_URL,
      socket: { reconnectStrategy: (retries: number) => Math.min(100 * 2 ** Math.min(retries, 5), 3_000), connectTimeout: 5_000 },
    });
    let lastErrorLog = 0;
    client.on('error', (err: Error) => {
      const now = Date.now();
      if (now - lastErrorLog < ERROR_LOG_INTERVAL_MS) return;
      lastErrorLog = now;
      app.log.warn({ err: { message: err.message } }, 'redis adapter connection error; reconnecting');
    });
    client.on('ready', () => app.log.info('redis adapter connected'));
    // Not awaited: the app starts (and serves this node's sockets) while Redis is still coming up.
    client.connect().catch((err: Error) => app.log.warn({ err: { message: err.message } }, 'redis adapter could not connect yet'));
    const { publisher, duplicates } = failFastPublisher(client);
    io.adapter(createRedisStreamsAdapter(publisher, REDIS_STREAM_OPTIONS));
    status = () => (client.isReady ? 'up' : 'degraded');
    closeClients = async () => {
      for (const d of duplicates) if (d.isOpen) d.destroy();
      if (!client.isReady) {
        if (client.isOpen) client.destroy();
        return;
      }
      await Promise.race([client.close(), new Promise((r) => setTimeout(r, 2_000).unref())]).catch(() => {});
      if (client.isOpen) client.destroy();
    };
  } else if (kind === 'postgres') {
    io.adapter(
      createPostgresAdapter(app.pool, {
        errorHandler: (err: Error) => app.log.warn({ err: { message: err.message } }, 'postgres adapter error'),
      }),
    );
    status = () => {
      // The adapter's LISTEN connection (internal): present while listening, absent while reconnecting.
      const pubsub = (io.of('/').adapter as unknown as { client?: { client?: unknown } }).client;
      return pubsub?.client ? 'up' : 'degraded';
    };
  }

  app.decorate('adapterStatus', () => status());
  app.addHook('onClose', async () => {
    try {
      io.of('/').adapter.close();
    } catch (err) {
      app.log.warn({ err }, 'closing the socket adapter failed');
    }
    await closeClients();
  });
}
