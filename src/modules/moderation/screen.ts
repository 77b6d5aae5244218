import type { Database } from '../../db/database.js';
import type { FilterAction } from '../../db/schema.js';

export interface Screening {
  action: FilterAction;
  filterId: string;
  pattern: string;
}

/**
 * Checks a message body against the word filters (NFKC, case-insensitive). The strongest match
 * wins: block > crisis > flag. Returns null when nothing matches. Implemented by the moderation module.
 */
export async function screenBody(_db: Database, _body: string): Promise<Screening | null> {
  return null;
}
