import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { createDatabase } from '../../src/db/database.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { buildIfStale } from './build.js';
import { withDatabase } from './pg.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
    pgTemplate: string;
  }
}

/**
 * Once per run: a real PostgreSQL (DATABASE_URL, or an embedded one in a temp folder), and a
 * template database migrated to the latest schema. Each test file copies the template.
 */
export default async function setup(project: TestProject) {
  buildIfStale();
  let embedded: EmbeddedDatabase | undefined;
  let dir: string | undefined;
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    dir = mkdtempSync(path.join(tmpdir(), 'engawa-test-'));
    chmodSync(dir, 0o755); // as root the database runs as the unprivileged postgres user
    embedded = await startEmbeddedPostgres(dir);
    adminUrl = embedded.url;
  }
  const template = `engawa_tpl_${process.pid}`;
  await withDatabase(adminUrl, async (q) => {
    await q(`drop database if exists ${template} with (force)`);
    await q(`create database ${template}`);
  });
  const { db } = createDatabase(databaseUrl(adminUrl, template), { max: 2 });
  try {
    await migrateToLatest(db);
  } finally {
    await db.destroy();
  }
  project.provide('pgAdminUrl', adminUrl);
  project.provide('pgTemplate', template);

  return async () => {
    await withDatabase(adminUrl, (q) => q(`drop database if exists ${template} with (force)`)).catch(() => {});
    await embedded?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
}

export function databaseUrl(adminUrl: string, name: string): string {
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}
