import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';

/** HTTP adapter of the bookings module (routes under /api). */
export const bookingsRoutes: FastifyPluginAsyncZod = async (_app) => {};
