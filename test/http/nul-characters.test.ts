import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newRoom, newUser } from '../helpers/factories.js';

// PostgreSQL text cannot hold NUL: without the /api preValidation hook each of these was a 500.
describe('a NUL character in any body or query string is 400 VALIDATION naming the field, and changes nothing', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s.close();
  });

  it('moderation reasons, suspension reason, invite note, filter pattern, slot location, user search', async () => {
    const staff = await newUser(s.app, { role: 'staff' });
    const member = await newUser(s.app, { role: 'member' });
    const room = await newRoom(s.app.db, { members: [{ id: staff.id, roomRole: 'moderator' }, { id: member.id, roomRole: 'member' }] });
    const inAnHour = (h: number) => new Date(Date.now() + h * 3_600_000).toISOString();
    const cases: Array<{ method: 'POST' | 'GET'; url: string; payload?: object; field: string; in: string }> = [
      { method: 'POST', url: `/api/rooms/${room.id}/mutes`, payload: { userId: member.id, minutes: 5, reason: 'a\u0000b' }, field: 'reason', in: 'body' },
      { method: 'POST', url: `/api/rooms/${room.id}/bans`, payload: { userId: member.id, reason: 'a\u0000b' }, field: 'reason', in: 'body' },
      { method: 'POST', url: `/api/users/${member.id}/suspend`, payload: { reason: 'a\u0000b' }, field: 'reason', in: 'body' },
      { method: 'POST', url: '/api/invites', payload: { role: 'member', note: 'a\u0000b' }, field: 'note', in: 'body' },
      { method: 'POST', url: '/api/filters', payload: { pattern: 'a\u0000b', action: 'flag' }, field: 'pattern', in: 'body' },
      { method: 'POST', url: '/api/slots', payload: { startsAt: inAnHour(24), endsAt: inAnHour(25), kinds: ['office'], location: 'a\u0000b' }, field: 'location', in: 'body' },
      { method: 'GET', url: '/api/users?query=a%00b', field: 'query', in: 'querystring' },
    ];
    const counts = async () =>
      Promise.all(['audit_log', 'room_bans', 'invites', 'word_filters', 'slots'].map(async (t) =>
        Number((await s.app.db.selectFrom(t as 'slots').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)));
    const before = await counts();
    for (const c of cases) {
      const res = await s.app.inject({ method: c.method, url: c.url, headers: staff.headers, ...(c.payload ? { payload: c.payload } : {}) });
      expect(res.statusCode, c.url).toBe(400);
      const body = res.json();
      expect(body.error.code).toBe('VALIDATION');
      expect(body.error.details.fields).toEqual([{ field: c.field, in: c.in, message: 'must not contain NUL characters' }]);
    }
    expect(await counts()).toEqual(before);
    const target = await s.app.db.selectFrom('users').select('suspended_at').where('id', '=', member.id).executeTakeFirstOrThrow();
    expect(target.suspended_at).toBeNull();
  });

  it('a nested string (array item) is named by its path; text without NUL still passes', async () => {
    const staff = await newUser(s.app, { role: 'staff' });
    const bad = await s.app.inject({ method: 'POST', url: '/api/slots', headers: staff.headers, payload: { startsAt: 'x', endsAt: 'y', kinds: ['off\u0000ice'] } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details.fields).toEqual([{ field: 'kinds.0', in: 'body', message: 'must not contain NUL characters' }]);
    const ok = await s.app.inject({ method: 'POST', url: '/api/invites', headers: staff.headers, payload: { role: 'member', note: 'ふつうのメモ' } });
    expect(ok.statusCode).toBe(201);
  });
});
