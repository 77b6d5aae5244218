import rateLimit from '@fastify/rate-limit';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { rateLimited } from '../../errors.js';
import { errorResponses, idParams } from '../../http/schemas.js';
import { createInvite, listInvites, revokeInvite } from './invites.js';
import { dummyPasswordHash } from './passwords.js';
import {
  createInviteBody,
  createdInviteSchema,
  inviteSchema,
  loginBody,
  refreshBody,
  registerBody,
  sessionSchema,
  suspendBody,
  suspendResponse,
  tokenPairSchema,
  updateMeBody,
  updateMeResponse,
  userSearchQuery,
} from './schemas.js';
import { getMe, login, logout, refresh, register, searchUsers, suspendUser, unsuspendUser, updateMe } from './service.js';
import { userSchema } from './user.js';

const noContent = z.null().describe('No content');

/** Users and sign-in (API.md "Users and sign-in"). Thin adapters over service.ts and invites.ts. */
export const authRoutes: FastifyPluginAsyncZod = async (app) => {
  // Register and login share one budget per client address (scoped to this plugin).
  await app.register(rateLimit, {
    global: false,
    max: app.config.AUTH_RATE_LIMIT_PER_MINUTE,
    timeWindow: 60_000,
    errorResponseBuilder: (_request, context) => rateLimited(Math.max(1, context.ttl)),
  });
  const authBudget = app.rateLimit();
  // Computed now, so the first login with an unknown handle takes no longer than the others.
  dummyPasswordHash().catch((err: unknown) => app.log.error({ err }, 'could not prepare the dummy password hash'));

  app.post(
    '/auth/register',
    { onRequest: authBudget, schema: { tags: ['auth'], body: registerBody, response: { 201: sessionSchema, ...errorResponses } } },
    async (request, reply) => reply.status(201).send(await register(app, request.body)),
  );

  app.post(
    '/auth/login',
    { onRequest: authBudget, schema: { tags: ['auth'], body: loginBody, response: { 200: sessionSchema, ...errorResponses } } },
    async (request) => login(app, request.body),
  );

  app.post(
    '/auth/refresh',
    { schema: { tags: ['auth'], body: refreshBody, response: { 200: tokenPairSchema, ...errorResponses } } },
    async (request) => refresh(app, request.body.refreshToken),
  );

  app.post(
    '/auth/logout',
    { onRequest: app.authenticate, schema: { tags: ['auth'], body: refreshBody, response: { 204: noContent, ...errorResponses } } },
    async (request, reply) => {
      await logout(app.db, request.actor, request.body.refreshToken);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/me',
    { onRequest: app.authenticate, schema: { tags: ['auth'], response: { 200: z.object({ user: userSchema }), ...errorResponses } } },
    async (request) => ({ user: await getMe(app.db, request.actor) }),
  );

  app.patch(
    '/me',
    // A password change is counted in the sign-in budget (it checks a password); a display-name
    // change is not: API.md's AUTH_RATE_LIMIT_PER_MINUTE covers register + login only.
    {
      onRequest: app.authenticate,
      preHandler: async (request, reply) => {
        if (request.body.password) await authBudget.call(app, request, reply);
      },
      schema: { tags: ['auth'], body: updateMeBody, response: { 200: updateMeResponse, ...errorResponses } },
    },
    async (request) => updateMe(app, request.actor, request.body),
  );

  app.get(
    '/users',
    { onRequest: app.requireRole('moderator'), schema: { tags: ['users'], querystring: userSearchQuery, response: { 200: z.object({ users: z.array(userSchema) }), ...errorResponses } } },
    async (request) => ({ users: await searchUsers(app.db, request.actor, request.query.query) }),
  );

  app.post(
    '/users/:id/suspend',
    { onRequest: app.requireRole('staff'), schema: { tags: ['users'], params: idParams, body: suspendBody, response: { 200: suspendResponse, ...errorResponses } } },
    async (request) => suspendUser(app, request.actor, request.params.id, request.body),
  );

  app.post(
    '/users/:id/unsuspend',
    { onRequest: app.requireRole('staff'), schema: { tags: ['users'], params: idParams, response: { 200: suspendResponse, ...errorResponses } } },
    async (request) => unsuspendUser(app, request.actor, request.params.id),
  );

  app.post(
    '/invites',
    { onRequest: app.requireRole('staff'), schema: { tags: ['invites'], body: createInviteBody, response: { 201: createdInviteSchema, ...errorResponses } } },
    async (request, reply) => reply.status(201).send(await createInvite(app.db, request.actor, request.body)),
  );

  app.get(
    '/invites',
    { onRequest: app.requireRole('staff'), schema: { tags: ['invites'], response: { 200: z.object({ invites: z.array(inviteSchema) }), ...errorResponses } } },
    async (request) => ({ invites: await listInvites(app.db, request.actor) }),
  );

  app.delete(
    '/invites/:id',
    { onRequest: app.requireRole('staff'), schema: { tags: ['invites'], params: idParams, response: { 204: noContent, ...errorResponses } } },
    async (request, reply) => {
      await revokeInvite(app.db, request.actor, request.params.id);
      return reply.status(204).send(null);
    },
  );
};
