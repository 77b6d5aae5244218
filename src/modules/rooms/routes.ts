import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  addMemberBody,
  createRoomBody,
  memberParams,
  memberSchema,
  readMarkerBody,
  roomSchema,
  updateRoomBody,
} from './schemas.js';
import { errorResponses, idParams } from '../../http/schemas.js';
import { addMember, createRoom, getRoom, listMembers, listRooms, markRead, removeMember, updateRoom } from './service.js';

/** HTTP adapter of the rooms module (routes under /api). */
export const roomsRoutes: FastifyPluginAsyncZod = async (app) => {
  const tags = ['rooms'];
  const security = [{ bearerAuth: [] }];

  app.post(
    '/rooms',
    {
      onRequest: app.requireRole('moderator'),
      schema: { tags, security, body: createRoomBody, response: { 201: roomSchema, ...errorResponses } },
    },
    async (request, reply) => reply.status(201).send(await createRoom(app, request.actor, request.body)),
  );

  app.get(
    '/rooms',
    { onRequest: app.authenticate, schema: { tags, security, response: { 200: z.object({ rooms: z.array(roomSchema) }), ...errorResponses } } },
    async (request) => ({ rooms: await listRooms(app.db, request.actor) }),
  );

  app.get(
    '/rooms/:id',
    { onRequest: app.authenticate, schema: { tags, security, params: idParams, response: { 200: roomSchema, ...errorResponses } } },
    async (request) => getRoom(app.db, request.actor, request.params.id),
  );

  app.patch(
    '/rooms/:id',
    {
      onRequest: app.authenticate,
      schema: { tags, security, params: idParams, body: updateRoomBody, response: { 200: roomSchema, ...errorResponses } },
    },
    async (request) => updateRoom(app, request.actor, request.params.id, request.body),
  );

  app.get(
    '/rooms/:id/members',
    {
      onRequest: app.authenticate,
      schema: { tags, security, params: idParams, response: { 200: z.object({ members: z.array(memberSchema) }), ...errorResponses } },
    },
    async (request) => ({ members: await listMembers(app.db, request.actor, request.params.id) }),
  );

  app.post(
    '/rooms/:id/members',
    {
      onRequest: app.authenticate,
      schema: { tags, security, params: idParams, body: addMemberBody, response: { 201: memberSchema, ...errorResponses } },
    },
    async (request, reply) => reply.status(201).send(await addMember(app, request.actor, request.params.id, request.body)),
  );

  app.delete(
    '/rooms/:id/members/:userId',
    { onRequest: app.authenticate, schema: { tags, security, params: memberParams, response: { 204: z.null(), ...errorResponses } } },
    async (request, reply) => {
      await removeMember(app, request.actor, request.params.id, request.params.userId);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/rooms/:id/read',
    {
      onRequest: app.authenticate,
      schema: { tags, security, params: idParams, body: readMarkerBody, response: { 204: z.null(), ...errorResponses } },
    },
    async (request, reply) => {
      await markRead(app.db, request.actor, request.params.id, request.body.seq);
      return reply.status(204).send(null);
    },
  );
};
