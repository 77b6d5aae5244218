import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Database } from '../../src/db/database.js';
import type { Role, RoomKind, RoomRole } from '../../src/db/schema.js';
import { hashPassword } from '../../src/modules/auth/passwords.js';

export const DEFAULT_PASSWORD = 'correct horse battery';
let defaultHash: Promise<string> | undefined;

export interface TestUser {
  id: string;
  handle: string;
  displayName: string;
  role: Role;
  password: string;
  token: string;
  /** `{ authorization: 'Bearer …' }` for app.inject */
  headers: { authorization: string };
}

let counter = 0;
const uniq = () => `${Date.now().toString(36)}${(counter++).toString(36)}`;

/** A user straight in the database, with a signed access token. */
export async function newUser(
  app: FastifyInstance,
  opts: { role?: Role; handle?: string; displayName?: string; password?: string } = {},
): Promise<TestUser> {
  const handle = opts.handle ?? `u_${uniq()}`;
  const password = opts.password ?? DEFAULT_PASSWORD;
  const hash = opts.password ? await hashPassword(password) : await (defaultHash ??= hashPassword(DEFAULT_PASSWORD));
  const role = opts.role ?? 'member';
  const row = await app.db
    .insertInto('users')
    .values({
      handle,
      handle_key: handle.normalize('NFKC').toLowerCase(),
      display_name: opts.displayName ?? handle,
      role,
      password_hash: hash,
    })
    .returning(['id'])
    .executeTakeFirstOrThrow();
  const token = app.signAccessToken({ id: row.id, role });
  return { id: row.id, handle, displayName: opts.displayName ?? handle, role, password, token, headers: { authorization: `Bearer ${token}` } };
}

/** A room straight in the database; members are added with their room roles. */
export async function newRoom(
  db: Database,
  opts: {
    name?: string;
    kind?: RoomKind;
    createdBy?: string;
    members?: Array<{ id: string; roomRole?: RoomRole }>;
    locked?: boolean;
    slowModeSeconds?: number;
    membersCanStartCalls?: boolean;
  } = {},
): Promise<{ id: string; name: string }> {
  const name = opts.name ?? `room ${uniq()}`;
  const room = await db
    .insertInto('rooms')
    .values({
      name,
      kind: opts.kind ?? 'chat',
      created_by: opts.createdBy ?? null,
      locked: opts.locked ?? false,
      slow_mode_seconds: opts.slowModeSeconds ?? 0,
      members_can_start_calls: opts.membersCanStartCalls ?? false,
      last_seq: 0,
    })
    .returning(['id'])
    .executeTakeFirstOrThrow();
  if (opts.members?.length) {
    await db
      .insertInto('room_members')
      .values(opts.members.map((m) => ({ room_id: room.id, user_id: m.id, room_role: m.roomRole ?? 'member', last_read_seq: 0 })))
      .execute();
  }
  return { id: room.id, name };
}

export const newClientId = () => randomUUID();

/** Sends a message over HTTP as `user` (a fresh clientId each time). */
export const postMessage = (app: FastifyInstance, user: { headers: { authorization: string } }, roomId: string, body: string) =>
  app.inject({ method: 'POST', url: `/api/rooms/${roomId}/messages`, headers: user.headers, payload: { body, clientId: newClientId() } });
