import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';

/** HTTP adapter of the calls module (routes under /api). */
export const callsRoutes: FastifyPluginAsyncZod = async (_app) => {};
