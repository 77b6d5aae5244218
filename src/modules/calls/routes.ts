import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { scheduleCallExpiry } from './jobs.js';
import { errorResponses, idParams } from '../../http/schemas.js';
import { callSchema, callWithLinkSchema, noBodySchema, noQuerySchema } from './schemas.js';
import { endCall, getCallLink, startCall } from './service.js';

/** HTTP adapter of the calls module (routes under /api). */
export const callsRoutes: FastifyPluginAsyncZod = async (app) => {
  scheduleCallExpiry(app);
  const tags = ['calls'];

  app.post(
    '/rooms/:id/call',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Start the room’s video call (or get the one already live)',
        params: idParams,
        body: noBodySchema,
        response: { 200: callSchema, 201: callSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { call, created } = await startCall(app, request.actor, request.params.id);
      return reply.status(created ? 201 : 200).send(call);
    },
  );

  app.get(
    '/rooms/:id/call',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'The live call and a personal join link',
        params: idParams,
        querystring: noQuerySchema,
        response: { 200: callWithLinkSchema, ...errorResponses },
      },
    },
    async (request) => getCallLink(app, request.actor, request.params.id),
  );

  app.delete(
    '/rooms/:id/call',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'End the live call',
        params: idParams,
        body: noBodySchema,
        response: { 204: z.null().describe('Ended'), ...errorResponses },
      },
    },
    async (request, reply) => {
      await endCall(app, request.actor, request.params.id);
      return reply.status(204).send(null);
    },
  );
};
