import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';

/** HTTP adapter of the moderation module (routes under /api). */
export const moderationRoutes: FastifyPluginAsyncZod = async (_app) => {};
