import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';

/** HTTP adapter of the messages module (routes under /api). */
export const messagesRoutes: FastifyPluginAsyncZod = async (_app) => {};
