import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type pg from 'pg';
import type { DestinationStream } from 'pino';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import { authPlugin } from './http/auth.js';
import { contextPlugin } from './http/context.js';
import { docsPlugin } from './http/docs.js';
import { errorsPlugin } from './http/errors.js';
import { healthRoutes } from './http/health.js';
import { dropEmptyQueryValues, jsonBodyPlugin, refuseNulCharacters } from './http/json.js';
import { metricsPlugin } from './http/metrics.js';
import { securityPlugin } from './http/security.js';
import { staticPlugin } from './http/static.js';
import { loggerOptions } from './logger.js';
import { Realtime } from './realtime/realtime.js';
import { createSocketServer } from './realtime/server.js';
import { attachAdapter } from './realtime/adapter.js';
import { authRoutes } from './modules/auth/routes.js';
import { roomsRoutes } from './modules/rooms/routes.js';
import { messagesRoutes } from './modules/messages/routes.js';
import { messageEvents } from './modules/messages/events.js';
import { moderationRoutes } from './modules/moderation/routes.js';
import { callsRoutes } from './modules/calls/routes.js';
import { bookingsRoutes } from './modules/bookings/routes.js';
import { SendBatcher } from './modules/messages/send.js';

export interface AppDeps {
  config: Config;
  db: Database;
  pool: pg.Pool;
  /** Where log lines go instead of stdout (tests read them to prove no secret is logged). */
  logStream?: DestinationStream;
}

export const HTTP_BODY_LIMIT = 1024 * 1024;

/** Builds the Fastify app with Socket.IO attached. Never listens: main.ts and tests do. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: loggerOptions(deps.config.LOG_LEVEL, deps.logStream),
    bodyLimit: HTTP_BODY_LIMIT,
    genReqId: () => randomUUID(),
    trustProxy: deps.config.TRUST_PROXY,
    routerOptions: { ignoreTrailingSlash: true },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  await app.register(errorsPlugin);
  await app.register(jsonBodyPlugin);
  await app.register(contextPlugin, deps);
  await app.register(securityPlugin);
  await app.register(docsPlugin);
  await app.register(metricsPlugin);
  await app.register(authPlugin, { secret: deps.config.JWT_SECRET });

  const io = createSocketServer(app);
  attachAdapter(app, io);
  app.decorate('io', io);
  app.decorate('realtime', new Realtime(io));
  app.decorate('sendBatcher', new SendBatcher(app));
  app.socketRegistrars.push(messageEvents);
  // Before the HTTP server closes: drop every socket of this node so clients reconnect to another.
  app.addHook('preClose', async () => {
    io.local.disconnectSockets(true);
    io.engine.close();
  });

  await app.register(healthRoutes);
  await app.register(
    async (api) => {
      api.addHook('preValidation', dropEmptyQueryValues);
      api.addHook('preValidation', refuseNulCharacters);
      await api.register(authRoutes);
      await api.register(roomsRoutes);
      await api.register(messagesRoutes);
      await api.register(moderationRoutes);
      await api.register(callsRoutes);
      await api.register(bookingsRoutes);
    },
    { prefix: '/api' },
  );
  await app.register(staticPlugin);
  return app;
}
