import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';

export const authRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get('/me', { preHandler: app.authenticate }, async (request) => ({ user: request.actor }));
};
