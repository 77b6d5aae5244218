import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';

export const REFRESH_TOKEN_TTL_DAYS = 30;

/** A secret for a person to hold (refresh token, invite code, calendar feed): 192 random bits by default, URL-safe. */
export const randomSecret = (bytes = 24): string => randomBytes(bytes).toString('base64url');

/** Only this digest is stored; a stolen database does not yield usable tokens or codes. */
export const sha256 = (secret: string): string => createHash('sha256').update(secret, 'utf8').digest('hex');

const refreshExpiry = () => new Date(Date.now() + REFRESH_TOKEN_TTL_DAYS * 24 * 3600 * 1000);

/** Issues a refresh token in a family (a new family for a fresh sign-in). Returns the secret, shown once. */
export async function issueRefreshToken(db: Kysely<DB>, userId: string, familyId: string = randomUUID()): Promise<string> {
  const token = randomSecret();
  await db
    .insertInto('refresh_tokens')
    .values({ user_id: userId, family_id: familyId, token_hash: sha256(token), expires_at: refreshExpiry() })
    .execute();
  return token;
}

export type RotateResult =
  | { ok: true; userId: string; familyId: string }
  | { ok: false; reason: 'unknown' | 'reused' };

/**
 * Marks a live refresh token as rotated, atomically: of two concurrent presentations only one
 * wins. A token that was already rotated is a replay (stolen or copied): its whole family is
 * revoked, so the thief's and the owner's newer tokens stop working alike.
 */
export async function rotateRefreshToken(db: Kysely<DB>, token: string): Promise<RotateResult> {
  const hash = sha256(token);
  const now = new Date();
  const rotated = await db
    .updateTable('refresh_tokens')
    .set({ rotated_at: now })
    .where('token_hash', '=', hash)
    .where('rotated_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .returning(['user_id', 'family_id'])
    .executeTakeFirst();
  if (rotated) return { ok: true, userId: rotated.user_id, familyId: rotated.family_id };

  const seen = await db.selectFrom('refresh_tokens').select(['family_id', 'rotated_at']).where('token_hash', '=', hash).executeTakeFirst();
  if (seen?.rotated_at) {
    await revokeFamily(db, seen.family_id);
    return { ok: false, reason: 'reused' };
  }
  return { ok: false, reason: 'unknown' };
}

export async function revokeFamily(db: Kysely<DB>, familyId: string): Promise<void> {
  await db
    .updateTable('refresh_tokens')
    .set({ revoked_at: new Date() })
    .where('family_id', '=', familyId)
    .where('revoked_at', 'is', null)
    .execute();
}

/** Ends every session of the user (suspension, password change). */
export async function revokeAllRefreshTokens(db: Kysely<DB>, userId: string): Promise<void> {
  await db
    .updateTable('refresh_tokens')
    .set({ revoked_at: new Date() })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .execute();
}

/** Logout: ends the session the token belongs to (its whole family), if it is the user's. */
export async function revokeSessionOf(db: Kysely<DB>, userId: string, token: string): Promise<void> {
  const row = await db
    .selectFrom('refresh_tokens')
    .select('family_id')
    .where('token_hash', '=', sha256(token))
    .where('user_id', '=', userId)
    .executeTakeFirst();
  if (row) await revokeFamily(db, row.family_id);
}
