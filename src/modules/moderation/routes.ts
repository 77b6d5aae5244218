import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses, idParams } from '../../http/schemas.js';
import { listAudit } from './audit.js';
import { createFilter, deleteFilter, listFilters } from './filters.js';
import { createFlag, listFlags, resolveFlag } from './flags.js';
import { hideMessage, unhideMessage } from './message-actions.js';
import { supportResources } from './resources.js';
import { banUser, muteMember, unbanUser, unmuteMember } from './room-actions.js';
import {
  auditEntrySchema,
  auditQuery,
  banBody,
  banSchema,
  createFilterBody,
  createFlagBody,
  filterSchema,
  flagSchema,
  flagWithMessageSchema,
  hideBody,
  listFlagsQuery,
  messageSchema,
  muteBody,
  muteSchema,
  resolveFlagBody,
  roomUserParams,
  unhideBody,
} from './schemas.js';

const tags = ['moderation'];

/** HTTP adapter of the moderation module (routes under /api). */
export const moderationRoutes: FastifyPluginAsyncZod = async (app) => {
  // A bad SUPPORT_RESOURCES stops the server at start rather than failing during a crisis.
  supportResources(app.config);

  // onRequest: an unauthenticated call is 401 before its input is even looked at.
  app.addHook('onRequest', app.authenticate);

  app.post('/messages/:id/flags', {
    schema: { tags, params: idParams, body: createFlagBody, response: { 200: flagSchema, 201: flagSchema, ...errorResponses } },
  }, async (request, reply) => {
    const { flag, created } = await createFlag(app, request.actor, request.params.id, request.body);
    return reply.status(created ? 201 : 200).send(flag);
  });

  app.get('/flags', {
    schema: { tags, querystring: listFlagsQuery, response: { 200: z.object({ flags: z.array(flagWithMessageSchema) }), ...errorResponses } },
  }, async (request) => ({ flags: await listFlags(app.db, request.actor, request.query) }));

  app.post('/flags/:id/resolve', {
    schema: { tags, params: idParams, body: resolveFlagBody, response: { 200: flagSchema, ...errorResponses } },
  }, async (request) => resolveFlag(app, request.actor, request.params.id, request.body));

  app.post('/messages/:id/hide', {
    schema: { tags, params: idParams, body: hideBody, response: { 200: messageSchema, ...errorResponses } },
  }, async (request) => hideMessage(app, request.actor, request.params.id, request.body.reason));

  app.post('/messages/:id/unhide', {
    schema: { tags, params: idParams, body: unhideBody, response: { 200: messageSchema, ...errorResponses } },
  }, async (request) => unhideMessage(app, request.actor, request.params.id, request.body?.reason));

  app.post('/rooms/:id/mutes', {
    schema: { tags, params: idParams, body: muteBody, response: { 201: muteSchema, ...errorResponses } },
  }, async (request, reply) => reply.status(201).send(await muteMember(app, request.actor, request.params.id, request.body)));

  app.delete('/rooms/:id/mutes/:userId', {
    schema: { tags, params: roomUserParams, response: { 204: z.null(), ...errorResponses } },
  }, async (request, reply) => {
    await unmuteMember(app, request.actor, request.params.id, request.params.userId);
    return reply.status(204).send(null);
  });

  app.post('/rooms/:id/bans', {
    schema: { tags, params: idParams, body: banBody, response: { 201: banSchema, ...errorResponses } },
  }, async (request, reply) => reply.status(201).send(await banUser(app, request.actor, request.params.id, request.body)));

  app.delete('/rooms/:id/bans/:userId', {
    schema: { tags, params: roomUserParams, response: { 204: z.null(), ...errorResponses } },
  }, async (request, reply) => {
    await unbanUser(app, request.actor, request.params.id, request.params.userId);
    return reply.status(204).send(null);
  });

  app.get('/filters', {
    onRequest: app.requireRole('staff'),
    schema: { tags, response: { 200: z.object({ filters: z.array(filterSchema) }), ...errorResponses } },
  }, async () => ({ filters: await listFilters(app.db) }));

  app.post('/filters', {
    onRequest: app.requireRole('staff'),
    schema: { tags, body: createFilterBody, response: { 201: filterSchema, ...errorResponses } },
  }, async (request, reply) => reply.status(201).send(await createFilter(app.db, request.actor, request.body)));

  app.delete('/filters/:id', {
    onRequest: app.requireRole('staff'),
    schema: { tags, params: idParams, response: { 204: z.null(), ...errorResponses } },
  }, async (request, reply) => {
    await deleteFilter(app.db, request.actor, request.params.id);
    return reply.status(204).send(null);
  });

  app.get('/audit', {
    schema: { tags, querystring: auditQuery, response: { 200: z.object({ entries: z.array(auditEntrySchema) }), ...errorResponses } },
  }, async (request) => ({ entries: await listAudit(app.db, request.actor, request.query) }));
};
