import { sql } from 'kysely';
import type { Database } from '../../db/database.js';
import { DomainError, forbidden, isUniqueViolation, locked, notFound, unauthenticated } from '../../errors.js';
import type { Realtime } from '../../realtime/realtime.js';
import { writeAudit } from '../moderation/audit.js';
import { isSuspended, type Actor } from './actor.js';
import { handleKey } from './handles.js';
import { consumeInvite, joinInviteRooms } from './invites.js';
import { dummyPasswordHash, hashPassword, verifyPassword } from './passwords.js';
import { isAtLeast, roleRank } from './roles.js';
import type { LoginInput, RegisterInput, Session, SuspendInput, SuspendResult, TokenPair, UpdateMeInput } from './schemas.js';
import { issueRefreshToken, revokeAllRefreshTokens, revokeSessionOf, rotateRefreshToken } from './tokens.js';
import { toUser, type User } from './user.js';

/** What the auth rules need from the app: the database, live sockets, and access-token signing. */
export interface AuthDeps {
  db: Database;
  realtime: Realtime;
  signAccessToken(actor: { id: string; role: User['role'] }): string;
}

export const BAD_CREDENTIALS_MESSAGE = 'The handle or password is not correct';
const SESSION_ENDED_MESSAGE = 'Your session has ended, please sign in again';
const USER_COLUMNS = ['id', 'handle', 'display_name', 'role', 'created_at'] as const;

const validation = (field: string, message: string) => new DomainError('VALIDATION', 'Invalid input', { fields: [{ field, in: 'body', message }] });

function suspendedError(until: Date | null): DomainError {
  const message = until
    ? `This account is suspended until ${until.toISOString()}. Please contact the staff if you have questions.`
    : 'This account is suspended. Please contact the staff if you have questions.';
  return locked(message, { suspendedUntil: until?.toISOString() ?? null });
}

/** Registration: one use of the invite, the user and their room memberships in one transaction. */
export async function register(deps: AuthDeps, input: RegisterInput): Promise<Session> {
  const passwordHash = await hashPassword(input.password);
  const { user, joined, refreshToken } = await deps.db.transaction().execute(async (trx) => {
    const invite = await consumeInvite(trx, input.inviteCode);
    let row;
    try {
      row = await trx
        .insertInto('users')
        .values({
          handle: input.handle,
          handle_key: handleKey(input.handle),
          display_name: input.displayName ?? input.handle,
          role: invite.role,
          password_hash: passwordHash,
        })
        .returning(USER_COLUMNS)
        .executeTakeFirstOrThrow();
    } catch (err) {
      if (isUniqueViolation(err)) throw new DomainError('CONFLICT', 'This handle is already taken', { field: 'handle' });
      throw err;
    }
    const joined = await joinInviteRooms(trx, row.id, invite.roomIds);
    const refreshToken = await issueRefreshToken(trx, row.id);
    return { user: toUser(row), joined, refreshToken };
  });
  const publicUser = { id: user.id, handle: user.handle, displayName: user.displayName };
  for (const roomId of joined) deps.realtime.toRoom(roomId, 'member:joined', { roomId, user: publicUser });
  return { user, accessToken: deps.signAccessToken(user), refreshToken };
}

/**
 * Login answers an unknown handle and a wrong password alike, in message and in time (the
 * password is verified against a dummy hash). Suspension is told only after the right password.
 */
export async function login(deps: AuthDeps, input: LoginInput): Promise<Session> {
  const row = await deps.db
    .selectFrom('users')
    .select([...USER_COLUMNS, 'password_hash', 'suspended_at', 'suspended_until'])
    .where('handle_key', '=', handleKey(input.handle))
    .executeTakeFirst();
  const ok = await verifyPassword(row?.password_hash ?? (await dummyPasswordHash()), input.password);
  if (!row || !ok) throw unauthenticated(BAD_CREDENTIALS_MESSAGE);
  if (isSuspended(row)) throw suspendedError(row.suspended_until);
  const refreshToken = await issueRefreshToken(deps.db, row.id);
  const user = toUser(row);
  return { user, accessToken: deps.signAccessToken(user), refreshToken };
}

/** Rotation: the presented token is spent and a new one of the same family is issued. */
export async function refresh(deps: AuthDeps, token: string): Promise<TokenPair> {
  // Not thrown inside the transaction: the family revocation on reuse must be committed.
  const result = await deps.db.transaction().execute(async (trx) => {
    const rotated = await rotateRefreshToken(trx, token);
    if (!rotated.ok) return { error: unauthenticated(SESSION_ENDED_MESSAGE) } as const;
    const user = await trx
      .selectFrom('users')
      .select(['id', 'role', 'suspended_at', 'suspended_until'])
      .where('id', '=', rotated.userId)
      .executeTakeFirst();
    if (!user) return { error: unauthenticated(SESSION_ENDED_MESSAGE) } as const;
    if (isSuspended(user)) return { error: suspendedError(user.suspended_until) } as const;
    const refreshToken = await issueRefreshToken(trx, user.id, rotated.familyId);
    return { user, refreshToken } as const;
  });
  if ('error' in result) throw result.error;
  return { accessToken: deps.signAccessToken(result.user), refreshToken: result.refreshToken };
}

/** Ends the session the refresh token belongs to. Idempotent: an unknown or spent token is fine. */
export async function logout(db: Database, actor: Actor, token: string): Promise<void> {
  await revokeSessionOf(db, actor.id, token);
}

async function userById(db: Database, id: string): Promise<User> {
  const row = await db.selectFrom('users').select(USER_COLUMNS).where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('User not found');
  return toUser(row);
}

export const getMe = (db: Database, actor: Actor): Promise<User> => userById(db, actor.id);

/**
 * Display name and password. A password change needs the current password (400 on the field
 * `password.current` otherwise: a 401 would read as "signed out" to clients), ends every session
 * of the user and returns a fresh token pair for this client.
 */
export async function updateMe(deps: AuthDeps, actor: Actor, input: UpdateMeInput): Promise<{ user: User } & Partial<TokenPair>> {
  let newHash: string | undefined;
  if (input.password) {
    const row = await deps.db.selectFrom('users').select('password_hash').where('id', '=', actor.id).executeTakeFirstOrThrow();
    if (!(await verifyPassword(row.password_hash, input.password.current))) {
      throw validation('password.current', 'The current password is not correct');
    }
    newHash = await hashPassword(input.password.next);
  }
  return deps.db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('users')
      .set({
        ...(input.displayName !== undefined ? { display_name: input.displayName } : {}),
        ...(newHash ? { password_hash: newHash } : {}),
      })
      .where('id', '=', actor.id)
      .returning(USER_COLUMNS)
      .executeTakeFirstOrThrow();
    const user = toUser(row);
    if (!newHash) return { user };
    await revokeAllRefreshTokens(trx, actor.id);
    const refreshToken = await issueRefreshToken(trx, actor.id);
    return { user, accessToken: deps.signAccessToken(user), refreshToken };
  });
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** Finding people to add to rooms (moderator+): by handle or display name, at most 20. */
export async function searchUsers(db: Database, actor: Actor, query: string | undefined): Promise<User[]> {
  if (!isAtLeast(actor.role, 'moderator')) throw forbidden();
  let q = db.selectFrom('users').select(USER_COLUMNS).orderBy('handle_key').limit(20);
  const text = query?.trim();
  if (text) {
    const pattern = `%${escapeLike(handleKey(text))}%`;
    q = q.where((eb) =>
      eb.or([eb('handle_key', 'like', pattern), eb(sql`lower(display_name)`, 'like', pattern)]),
    );
  }
  return (await q.execute()).map(toUser);
}

/** Nobody acts on themselves, nor on someone of equal or higher standing. */
async function targetBelow(db: Database, actor: Actor, targetId: string) {
  const target = await db
    .selectFrom('users')
    .select([...USER_COLUMNS, 'suspended_at', 'suspended_until', 'suspend_reason'])
    .where('id', '=', targetId)
    .executeTakeFirst();
  if (!target) throw notFound('User not found');
  if (target.id === actor.id) throw forbidden('You cannot do this to your own account');
  if (roleRank(target.role) >= roleRank(actor.role)) throw forbidden('You cannot act on someone of equal or higher standing');
  return target;
}

/** Suspension: sessions revoked, live sockets dropped on every node, audited. */
export async function suspendUser(deps: AuthDeps, actor: Actor, targetId: string, input: SuspendInput): Promise<SuspendResult> {
  if (!isAtLeast(actor.role, 'staff')) throw forbidden();
  const until = input.until ? new Date(input.until) : null;
  if (until && until <= new Date()) throw validation('until', 'Must be in the future');
  await targetBelow(deps.db, actor, targetId);
  const row = await deps.db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('users')
      .set({ suspended_at: new Date(), suspended_until: until, suspend_reason: input.reason })
      .where('id', '=', targetId)
      .returning([...USER_COLUMNS, 'suspended_at', 'suspended_until', 'suspend_reason'])
      .executeTakeFirstOrThrow();
    await revokeAllRefreshTokens(trx, targetId);
    await writeAudit(trx, { actorId: actor.id, action: 'user_suspend', targetUserId: targetId, reason: input.reason });
    return row;
  });
  deps.realtime.toUser(targetId, 'moderation:applied', { action: 'suspend', reason: input.reason, ...(until ? { until: until.toISOString() } : {}) });
  await deps.realtime.disconnectUser(targetId);
  return {
    user: toUser(row),
    suspension: { reason: input.reason, suspendedAt: row.suspended_at!.toISOString(), until: row.suspended_until?.toISOString() ?? null },
  };
}

/** Lifts a suspension. Idempotent; audited when something changed. */
export async function unsuspendUser(deps: AuthDeps, actor: Actor, targetId: string): Promise<SuspendResult> {
  if (!isAtLeast(actor.role, 'staff')) throw forbidden();
  const target = await targetBelow(deps.db, actor, targetId);
  if (target.suspended_at !== null) {
    await deps.db.transaction().execute(async (trx) => {
      await trx.updateTable('users').set({ suspended_at: null, suspended_until: null, suspend_reason: null }).where('id', '=', targetId).execute();
      await writeAudit(trx, { actorId: actor.id, action: 'user_unsuspend', targetUserId: targetId });
    });
  }
  return { user: toUser(target), suspension: null };
}
