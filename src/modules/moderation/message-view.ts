import type { Database } from '../../db/database.js';
import type { Message } from './schemas.js';

/**
 * Messages as the contract shows them to a moderator of their room (hidden bodies visible,
 * deleted ones without body). Used for flags, the queue and crisis alerts, which only moderators
 * and staff receive.
 */
export async function moderatorMessages(db: Database, ids: string[]): Promise<Map<string, Message>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('messages')
    .innerJoin('users', 'users.id', 'messages.author_id')
    .selectAll('messages')
    .select(['users.handle', 'users.display_name'])
    .where('messages.id', 'in', ids)
    .execute();
  return new Map(
    rows.map((r) => [
      r.id,
      {
        id: r.id,
        roomId: r.room_id,
        seq: r.seq,
        author: { id: r.author_id, handle: r.handle, displayName: r.display_name },
        body: r.deleted_at ? null : r.body,
        replyTo: r.reply_to,
        clientId: r.client_id,
        createdAt: r.created_at.toISOString(),
        editedAt: r.edited_at?.toISOString() ?? null,
        deleted: r.deleted_at !== null,
        hidden: r.hidden_at !== null,
      },
    ]),
  );
}

export async function moderatorMessage(db: Database, id: string): Promise<Message> {
  const found = (await moderatorMessages(db, [id])).get(id);
  if (!found) throw new Error(`message ${id} vanished`);
  return found;
}
