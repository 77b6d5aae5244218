import pg from 'pg';

/** Runs statements on one short-lived connection (CREATE/DROP DATABASE cannot run in a pool transaction). */
export async function withDatabase<T>(url: string, run: (q: (text: string) => Promise<pg.QueryResult>) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await run((text) => client.query(text));
  } finally {
    await client.end();
  }
}
