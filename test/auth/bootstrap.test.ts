import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapAdmin } from '../../src/modules/auth/bootstrap.js';
import type { Config } from '../../src/config.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newUser } from '../helpers/factories.js';
import { post } from './helpers.js';

let s: TestServer;
let second: TestServer;
beforeAll(async () => {
  s = await startTestServer({ AUTH_RATE_LIMIT_PER_MINUTE: '10000' });
  second = await startTestServer({}, { databaseUrl: s.databaseUrl }); // a second node on the same database
});
afterAll(async () => {
  await second.close();
  await s.close();
});

const withAdmin = (config: Config, handle: string, password: string): Config => ({
  ...config,
  BOOTSTRAP_ADMIN_HANDLE: handle,
  BOOTSTRAP_ADMIN_PASSWORD: password,
});

describe('bootstrap admin', () => {
  it('does nothing without BOOTSTRAP_ADMIN_*', async () => {
    expect(await bootstrapAdmin(s.db, s.app.config, s.app.log)).toBe(false);
    expect(await s.db.selectFrom('users').select('id').where('role', '=', 'admin').execute()).toHaveLength(0);
  });

  it('a handle already taken by a non-admin creates nothing', async () => {
    await newUser(s.app, { handle: 'occupied' });
    expect(await bootstrapAdmin(s.db, withAdmin(s.app.config, 'Occupied', 'root password 1'), s.app.log)).toBe(false);
    expect(await s.db.selectFrom('users').select('id').where('role', '=', 'admin').execute()).toHaveLength(0);
  });

  it('an invalid handle is a configuration error', async () => {
    await expect(bootstrapAdmin(s.db, withAdmin(s.app.config, '<root>', 'root password 1'), s.app.log)).rejects.toThrow('BOOTSTRAP_ADMIN_HANDLE');
  });

  it('two nodes starting at once create exactly one admin, once; it can sign in', async () => {
    const config = withAdmin(s.app.config, 'root', 'root password 1');
    const created = await Promise.all([bootstrapAdmin(s.db, config, s.app.log), bootstrapAdmin(second.db, config, second.app.log)]);
    expect(created.filter(Boolean)).toHaveLength(1);
    expect(await bootstrapAdmin(s.db, config, s.app.log)).toBe(false);
    expect(await bootstrapAdmin(s.db, withAdmin(s.app.config, 'other_root', 'root password 2'), s.app.log)).toBe(false);
    const admins = await s.db.selectFrom('users').select(['handle', 'role']).where('role', '=', 'admin').execute();
    expect(admins).toEqual([{ handle: 'root', role: 'admin' }]);
    const login = await post(s.app, '/api/auth/login', { handle: 'root', password: 'root password 1' });
    expect(login.statusCode).toBe(200);
    expect(login.json().user.role).toBe('admin');
  });
});
