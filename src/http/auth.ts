import fp from 'fastify-plugin';
import fastifyJwt from '@fastify/jwt';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Role } from '../db/schema.js';
import { forbidden, unauthenticated } from '../errors.js';
import { loadActor, type AccessClaims, type Actor } from '../modules/auth/actor.js';
import { isAtLeast } from '../modules/auth/roles.js';

export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: AccessClaims;
    user: AccessClaims;
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `app.authenticate`: the user as the database knows them now. */
    actor: Actor;
  }
  interface FastifyInstance {
    authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void>;
    /** preHandler: authenticated and of at least this global role. */
    requireRole(min: Role): (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
    signAccessToken(actor: Pick<Actor, 'id' | 'role'>): string;
    /** Verifies an access token (algorithm pinned) and loads its user; throws a DomainError. */
    actorFromToken(token: string | undefined): Promise<Actor>;
  }
}

/** Bearer tokens (HS256 only, ≤ 15 minutes) checked against the database on every request. */
export const authPlugin = fp(
  async (app, opts: { secret: string }) => {
    await app.register(fastifyJwt, {
      secret: opts.secret,
      sign: { algorithm: 'HS256', expiresIn: ACCESS_TOKEN_TTL_SECONDS },
      verify: { algorithms: ['HS256'] },
    });
    app.decorateRequest('actor', null as unknown as Actor);

    app.decorate('signAccessToken', (actor: Pick<Actor, 'id' | 'role'>) => app.jwt.sign({ sub: actor.id, role: actor.role }));

    app.decorate('actorFromToken', async (token: string | undefined) => {
      if (!token) throw unauthenticated();
      let claims: AccessClaims;
      try {
        claims = app.jwt.verify<AccessClaims>(token);
      } catch {
        throw unauthenticated('Your session has expired or is invalid');
      }
      if (typeof claims.sub !== 'string' || !/^[0-9a-f-]{36}$/i.test(claims.sub)) throw unauthenticated();
      return loadActor(app.db, claims.sub);
    });

    app.decorate('authenticate', async (request: FastifyRequest) => {
      const header = request.headers.authorization;
      const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
      request.actor = await app.actorFromToken(match?.[1]);
    });

    app.decorate('requireRole', (min: Role) => async (request: FastifyRequest, reply: FastifyReply) => {
      if (!request.actor) await app.authenticate(request, reply);
      if (!isAtLeast(request.actor.role, min)) throw forbidden();
    });
  },
  { name: 'engawa-auth', dependencies: ['engawa-context'] },
);
