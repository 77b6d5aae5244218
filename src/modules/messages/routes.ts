import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses, idParams } from '../../http/schemas.js';
import { editBody, historyQuery, messageSchema, messagesResponse, sendBody } from './schemas.js';
import { deleteMessage, editMessage, listMessages, listReplies, sendMessage } from './service.js';

/** HTTP adapter of the messages module (routes under /api). */
export const messagesRoutes: FastifyPluginAsyncZod = async (app) => {
  const tags = ['messages'];
  const security = [{ bearerAuth: [] }];

  app.get(
    '/rooms/:id/messages',
    { onRequest: app.authenticate, schema: { tags, security, params: idParams, querystring: historyQuery, response: { 200: messagesResponse, ...errorResponses } } },
    async (request) => ({ messages: await listMessages(app.db, request.actor, request.params.id, request.query) }),
  );

  app.post(
    '/rooms/:id/messages',
    {
      onRequest: app.authenticate,
      schema: { tags, security, params: idParams, body: sendBody, response: { 200: messageSchema, 201: messageSchema, ...errorResponses } },
    },
    async (request, reply) => {
      const { message, created } = await sendMessage(app, request.actor, { ...request.body, roomId: request.params.id });
      return reply.status(created ? 201 : 200).send(message);
    },
  );

  app.patch(
    '/messages/:id',
    { onRequest: app.authenticate, schema: { tags, security, params: idParams, body: editBody, response: { 200: messageSchema, ...errorResponses } } },
    async (request) => editMessage(app, request.actor, request.params.id, request.body.body),
  );

  app.delete(
    '/messages/:id',
    { onRequest: app.authenticate, schema: { tags, security, params: idParams, response: { 204: z.null(), ...errorResponses } } },
    async (request, reply) => {
      await deleteMessage(app, request.actor, request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/messages/:id/replies',
    { onRequest: app.authenticate, schema: { tags, security, params: idParams, response: { 200: messagesResponse, ...errorResponses } } },
    async (request) => ({ messages: await listReplies(app.db, request.actor, request.params.id) }),
  );
};
