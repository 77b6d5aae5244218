import type { Database } from '../../db/database.js';
import type { Selectable } from 'kysely';
import type { WordFiltersTable } from '../../db/schema.js';
import { conflict, DomainError, isUniqueViolation, notFound } from '../../errors.js';
import type { Actor } from '../auth/actor.js';
import { writeAudit } from './audit.js';
import { matchKey } from './normalize.js';
import type { CreateFilterInput, Filter } from './schemas.js';

const toFilter = (row: Selectable<WordFiltersTable>): Filter => ({
  id: row.id,
  pattern: row.pattern,
  action: row.action,
  builtin: row.builtin,
  createdBy: row.created_by,
  createdAt: row.created_at.toISOString(),
});

// Staff/admin only: enforced by the routes' requireRole('staff').

export async function listFilters(db: Database): Promise<Filter[]> {
  const rows = await db.selectFrom('word_filters').selectAll().orderBy('action').orderBy('created_at').orderBy('pattern').execute();
  return rows.map(toFilter);
}

/**
 * Adds a filter. Its match key (NFKC, lower case, katakana as hiragana) must be new: a pattern that
 * matches exactly what an existing one matches is 409. Applies to the next message on every node.
 */
export async function createFilter(db: Database, actor: Actor, input: CreateFilterInput): Promise<Filter> {
  const key = matchKey(input.pattern);
  if (key === '') throw new DomainError('VALIDATION', 'Invalid input', { fields: [{ field: 'pattern', message: 'pattern must not be blank' }] });
  try {
    return await db.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto('word_filters')
        .values({ pattern: input.pattern.trim(), pattern_key: key, action: input.action, created_by: actor.id })
        .returningAll()
        .executeTakeFirstOrThrow();
      await writeAudit(trx, { actorId: actor.id, action: 'filter_create', reason: `${input.action}: ${row.pattern}` });
      return toFilter(row);
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict('A filter for this word already exists');
    throw err;
  }
}

/** Removes a filter, built-in ones included (the list is editable). */
export async function deleteFilter(db: Database, actor: Actor, id: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const row = await trx.deleteFrom('word_filters').where('id', '=', id).returning(['pattern', 'action']).executeTakeFirst();
    if (!row) throw notFound('Filter not found');
    await writeAudit(trx, { actorId: actor.id, action: 'filter_delete', reason: `${row.action}: ${row.pattern}` });
  });
}
