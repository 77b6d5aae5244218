import type { Database } from '../../db/database.js';
import { toMessage } from '../messages/service.js';
import type { Message } from './schemas.js';

/**
 * Messages as a moderator of their room sees them (hidden bodies visible, deleted ones without
 * body), mapped by the messages module's toMessage. Used for flags, the queue and crisis alerts,
 * which only moderators and staff receive.
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
  return new Map(rows.map((r) => [r.id, toMessage(r, { id: r.author_id, handle: r.handle, displayName: r.display_name }, true)]));
}

export async function moderatorMessage(db: Database, id: string): Promise<Message> {
  const found = (await moderatorMessages(db, [id])).get(id);
  if (!found) throw new Error(`message ${id} vanished`);
  return found;
}
