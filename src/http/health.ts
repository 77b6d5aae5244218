import type { FastifyPluginAsync } from 'fastify';
import { databaseAnswers } from '../db/database.js';

/** Liveness and readiness: `/readyz` asks the database each time, so it recovers without a restart. */
export const healthRoutes: FastifyPluginAsync = async (app) => {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    const database = await databaseAnswers(app.pool);
    const adapter = app.adapterStatus?.() ?? 'none';
    const ready = database;
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', database: database ? 'up' : 'down', adapter });
  });
};

declare module 'fastify' {
  interface FastifyInstance {
    /** 'none' | 'up' | 'degraded': the Socket.IO adapter's link to the other nodes. */
    adapterStatus?: () => string;
  }
}
