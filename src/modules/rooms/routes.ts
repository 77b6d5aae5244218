import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';

/** HTTP adapter of the rooms module (routes under /api). */
export const roomsRoutes: FastifyPluginAsyncZod = async (_app) => {};
