import { sql } from 'kysely';
import type { Database } from '../../src/db/database.js';
import { newClientId } from '../helpers/factories.js';

/** A message straight in the database (seq taken like the service does). */
export async function insertMessage(db: Database, roomId: string, authorId: string, body = 'hello'): Promise<{ id: string; seq: number }> {
  return db.transaction().execute(async (trx) => {
    const { last_seq: seq } = await trx
      .updateTable('rooms')
      .set({ last_seq: sql`last_seq + 1` })
      .where('id', '=', roomId)
      .returning('last_seq')
      .executeTakeFirstOrThrow();
    return trx
      .insertInto('messages')
      .values({ room_id: roomId, seq, author_id: authorId, client_id: newClientId(), body })
      .returning(['id', 'seq'])
      .executeTakeFirstOrThrow();
  });
}

/** Polls `check` until it returns true or the deadline passes (no fixed sleeps). */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 5_000, stepMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error('condition not met before the deadline');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/**
 * Everything a moderation call could change, to prove a refused call changed nothing.
 * Times are compared as ISO strings.
 */
export async function snapshot(db: Database): Promise<unknown> {
  const [flags, audit, messages, members, bans, filters] = await Promise.all([
    db.selectFrom('flags').select(['id', 'status', 'resolved_by']).orderBy('id').execute(),
    db.selectFrom('audit_log').select(['id']).orderBy('id').execute(),
    db.selectFrom('messages').select(['id', 'hidden_at', 'deleted_at', 'body']).orderBy('id').execute(),
    db.selectFrom('room_members').select(['room_id', 'user_id', 'room_role', 'muted_until', 'mute_reason']).orderBy('room_id').orderBy('user_id').execute(),
    db.selectFrom('room_bans').select(['room_id', 'user_id']).orderBy('room_id').orderBy('user_id').execute(),
    db.selectFrom('word_filters').select(['id', 'pattern']).orderBy('id').execute(),
  ]);
  return JSON.parse(JSON.stringify({ flags, audit, messages, members, bans, filters }));
}
