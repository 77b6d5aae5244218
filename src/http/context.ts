import fp from 'fastify-plugin';
import type pg from 'pg';
import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import type { Realtime } from '../realtime/realtime.js';
import type { EngawaServer } from '../realtime/realtime.js';
import type { SocketRegistrar } from '../realtime/server.js';
import type { SendBatcher } from '../modules/messages/send.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    db: Database;
    pool: pg.Pool;
    io: EngawaServer;
    realtime: Realtime;
    /** Every message send of this node (HTTP and socket) goes through this one queue (group commit). */
    sendBatcher: SendBatcher;
    /** Socket event handlers of every feature, registered on each new socket. */
    socketRegistrars: SocketRegistrar[];
  }
}

export interface ContextOptions {
  config: Config;
  db: Database;
  pool: pg.Pool;
}

/** Makes the app's dependencies available to every plugin (no module-level globals). */
export const contextPlugin = fp(
  async (app, opts: ContextOptions) => {
    app.decorate('config', opts.config);
    app.decorate('db', opts.db);
    app.decorate('pool', opts.pool);
    app.decorate('socketRegistrars', [] as SocketRegistrar[]);
  },
  { name: 'engawa-context' },
);
