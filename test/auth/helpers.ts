import { createHmac } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Role } from '../../src/db/schema.js';
import type { TestUser } from '../helpers/factories.js';

export const PASSWORD = 'a calm veranda 42';

export const post = (app: FastifyInstance, url: string, payload: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url, payload: payload as object, headers });

/** An invite issued through the API; returns its one-time code and id. */
export async function invite(
  app: FastifyInstance,
  by: TestUser,
  body: { role?: Role; roomIds?: string[]; maxUses?: number; expiresInHours?: number; note?: string } = {},
): Promise<{ code: string; id: string }> {
  const res = await post(app, '/api/invites', { role: 'member', ...body }, by.headers);
  if (res.statusCode !== 201) throw new Error(`invite failed: ${res.statusCode} ${res.body}`);
  return { code: res.json().code, id: res.json().id };
}

export const register = (app: FastifyInstance, inviteCode: string, handle: string, extra: Record<string, unknown> = {}) =>
  post(app, '/api/auth/register', { inviteCode, handle, password: PASSWORD, ...extra });

/** Registers through a fresh invite and returns the session. */
export async function signUp(app: FastifyInstance, by: TestUser, handle: string, role: Role = 'member') {
  const { code } = await invite(app, by, { role });
  const res = await register(app, code, handle);
  if (res.statusCode !== 201) throw new Error(`register failed: ${res.statusCode} ${res.body}`);
  const session = res.json() as { user: { id: string; handle: string }; accessToken: string; refreshToken: string };
  return { ...session, headers: { authorization: `Bearer ${session.accessToken}` } };
}

export const count = async (app: FastifyInstance, table: 'users' | 'invites' | 'refresh_tokens' | 'room_members' | 'audit_log') =>
  Number((await app.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

/** A hand-made JWT, for tokens the server must refuse (wrong secret, alg none, expired). */
export function craftJwt(payload: Record<string, unknown>, secret: string, alg: 'HS256' | 'none' = 'HS256'): string {
  const head = `${b64({ alg, typ: 'JWT' })}.${b64(payload)}`;
  if (alg === 'none') return `${head}.`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

export const fields = (res: { json(): any }): string[] => (res.json().error?.details?.fields ?? []).map((f: { field: string }) => f.field);
