import { timingSafeEqual } from 'node:crypto';
import fp from 'fastify-plugin';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { unauthenticated } from '../errors.js';

export interface AppMetrics {
  registry: Registry;
  /** Messages stored (one per new row; an idempotent retry does not count). */
  messagesSent: Counter;
  /** Sends per send transaction, each attempt (group commit, see modules/messages/send.ts). */
  sendBatchSize: Histogram;
  /** Sends waiting on this node for a send transaction (MESSAGE_SEND_QUEUE bounds it). */
  sendQueued: Gauge;
  httpDuration: Histogram<'method' | 'route' | 'status_code'>;
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: AppMetrics;
  }
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Prometheus metrics at /metrics, in a registry of this app instance (several apps in one process,
 * as in tests, never clash). With METRICS_TOKEN set, scrapes need `Authorization: Bearer <token>`.
 */
export const metricsPlugin = fp(
  async (app) => {
    const registry = new Registry();
    // Process metrics, including event-loop delay (nodejs_eventloop_lag_*), sampled every 10 ms.
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });

    const httpDuration = new Histogram({
      name: 'engawa_http_request_duration_seconds',
      help: 'HTTP request duration by route pattern',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    const messagesSent = new Counter({
      name: 'engawa_messages_sent_total',
      help: 'Messages stored',
      registers: [registry],
    });
    const sendBatchSize = new Histogram({
      name: 'engawa_message_send_batch_size',
      help: 'Message sends per send transaction (group commit; a batch retried one send at a time counts each attempt)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 100],
      registers: [registry],
    });
    const sendQueued = new Gauge({
      name: 'engawa_message_send_queued',
      help: 'Message sends waiting on this node for a send transaction',
      registers: [registry],
    });
    new Gauge({
      name: 'engawa_socketio_connections',
      help: 'Authenticated Socket.IO connections on this node',
      registers: [registry],
      collect() {
        this.set(app.io ? app.io.of('/').sockets.size : 0);
      },
    });
    new Gauge({
      name: 'engawa_flags_open',
      help: 'Open moderation flags by priority (all nodes: read from the database)',
      labelNames: ['priority'] as const,
      registers: [registry],
      async collect() {
        const counts = { normal: 0, urgent: 0 } as Record<string, number>;
        try {
          const rows = await app.db
            .selectFrom('flags')
            .select(['priority', (eb) => eb.fn.countAll<number>().as('n')])
            .where('status', '=', 'open')
            .groupBy('priority')
            .execute();
          for (const r of rows) counts[r.priority] = Number(r.n);
        } catch (err) {
          // The database may be down: the scrape still answers, without this gauge's values.
          app.log.warn({ err }, 'metrics: open flags not readable');
          this.reset();
          return;
        }
        for (const [priority, n] of Object.entries(counts)) this.set({ priority }, n);
      },
    });

    app.decorate('metrics', { registry, messagesSent, sendBatchSize, sendQueued, httpDuration });

    app.addHook('onResponse', async (request, reply) => {
      // The route pattern (`/api/rooms/:id`), never the raw URL: bounded label values, no ids.
      const route = request.routeOptions.url ?? 'unmatched';
      httpDuration.observe({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
    });

    const token = app.config.METRICS_TOKEN;
    app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
      if (token) {
        const header = request.headers.authorization ?? '';
        const given = header.startsWith('Bearer ') ? header.slice(7) : '';
        if (!sameSecret(given, token)) throw unauthenticated('A metrics token is required');
      }
      const text = await registry.metrics();
      return reply.header('content-type', registry.contentType).header('cache-control', 'no-store').send(text);
    });
  },
  { name: 'engawa-metrics', dependencies: ['engawa-context'] },
);
