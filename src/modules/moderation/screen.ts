import type { Database } from '../../db/database.js';
import type { FilterAction } from '../../db/schema.js';
import { matchKey } from './normalize.js';

export interface Screening {
  action: FilterAction;
  filterId: string;
  pattern: string;
}

/** block > crisis > flag: the strongest match decides what happens to a message. */
const strength: Record<FilterAction, number> = { flag: 1, crisis: 2, block: 3 };

/**
 * Checks a message body against the word filters (NFKC, case-insensitive, katakana = hiragana; see
 * matchKey). The strongest match wins: block > crisis > flag. Returns null when nothing matches.
 *
 * The filters are read from the database for every message (the table is small and indexed by
 * nothing but its size), so a filter added or removed on any node applies to the very next message
 * everywhere; there is no cache to go stale.
 */
export async function screenBody(db: Database, body: string): Promise<Screening | null> {
  // pattern_key is matchKey(pattern), stored when the filter was made: only the body is normalised here.
  const filters = await db.selectFrom('word_filters').select(['id', 'pattern', 'pattern_key', 'action']).orderBy('created_at').execute();
  return screenWith(filters, body);
}

export interface FilterEntry {
  id: string;
  pattern: string;
  pattern_key: string;
  action: FilterAction;
}

/** The matching of screenBody over filters the caller has just read (e.g. in the send's own statement). */
export function screenWith(filters: readonly FilterEntry[], body: string): Screening | null {
  const text = matchKey(body);
  let best: Screening | null = null;
  for (const f of filters) {
    if (f.pattern_key === '' || !text.includes(f.pattern_key)) continue;
    if (!best || strength[f.action] > strength[best.action]) best = { action: f.action, filterId: f.id, pattern: f.pattern };
  }
  return best;
}
