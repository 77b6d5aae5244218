import type { Database } from '../../db/database.js';
import { messagesForModerators } from '../messages/service.js';
import type { Message } from './schemas.js';

/**
 * Messages as a moderator of their room sees them (hidden bodies visible, deleted ones without
 * body), read and mapped by the messages module. Used for flags, the queue and crisis alerts,
 * which only moderators and staff receive.
 */
export const moderatorMessages = (db: Database, ids: string[]): Promise<Map<string, Message>> => messagesForModerators(db, ids);

export async function moderatorMessage(db: Database, id: string): Promise<Message> {
  const found = (await moderatorMessages(db, [id])).get(id);
  if (!found) throw new Error(`message ${id} vanished`);
  return found;
}
