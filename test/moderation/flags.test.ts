import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newRoom, newUser, type TestUser } from '../helpers/factories.js';
import { recordAll, useSockets, waitForEvent } from '../helpers/sockets.js';
import { insertMessage } from './fixtures.js';

let s: TestServer;
let mod: TestUser, member: TestUser, author: TestUser, staff: TestUser;
let roomId: string;
beforeAll(async () => {
  s = await startTestServer();
  mod = await newUser(s.app);
  member = await newUser(s.app);
  author = await newUser(s.app);
  staff = await newUser(s.app, { role: 'staff' });
  roomId = (await newRoom(s.db, { members: [{ id: mod.id, roomRole: 'moderator' }, { id: member.id }, { id: author.id }] })).id;
});
afterAll(async () => {
  await s?.close();
});
const connect = useSockets(() => s);
const flag = (u: TestUser, messageId: string, payload: object) =>
  s.app.inject({ method: 'POST', url: `/api/messages/${messageId}/flags`, headers: u.headers, payload });

describe('reporting a message', () => {
  it('files a flag, tells the room’s moderators and staff (not members), and a repeat returns the open flag', async () => {
    const m = await insertMessage(s.db, roomId, author.id, 'you are worthless');
    const modSocket = await connect(mod);
    const staffSocket = await connect(staff);
    const authorFrames = recordAll(await connect(author));
    const modSees = waitForEvent(modSocket, 'flag:new', (f: any) => f.messageId === m.id);
    const staffSees = waitForEvent(staffSocket, 'flag:new', (f: any) => f.messageId === m.id);

    const res = await flag(member, m.id, { reason: 'harassment', note: 'this hurt' });
    expect(res.statusCode).toBe(201);
    const created = res.json();
    expect(created).toEqual({
      id: expect.any(String),
      messageId: m.id,
      roomId,
      reporter: { id: member.id, handle: member.handle },
      reason: 'harassment',
      note: 'this hurt',
      status: 'open',
      priority: 'normal',
      createdAt: expect.any(String),
      resolvedAt: null,
      resolvedBy: null,
      resolution: null,
      resolutionNote: null,
    });
    expect(await modSees).toMatchObject({ id: created.id, message: { id: m.id, body: 'you are worthless' } });
    expect(await staffSees).toMatchObject({ id: created.id });

    const again = await flag(member, m.id, { reason: 'spam' });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(created);
    expect(await s.db.selectFrom('flags').select('id').where('message_id', '=', m.id).execute()).toHaveLength(1);
    // The reported author never learns who reported them.
    expect(authorFrames.filter((f) => f.event === 'flag:new')).toEqual([]);
  });

  it('a self_harm report is urgent; a deleted message cannot be reported (409); an unknown one is 404', async () => {
    const m = await insertMessage(s.db, roomId, author.id, 'I cannot go on');
    const res = await flag(member, m.id, { reason: 'self_harm' });
    expect(res.statusCode).toBe(201);
    expect(res.json().priority).toBe('urgent');
    const gone = await insertMessage(s.db, roomId, author.id);
    await s.db.updateTable('messages').set({ deleted_at: new Date(), body: null }).where('id', '=', gone.id).execute();
    const del = await flag(member, gone.id, { reason: 'spam' });
    expect(del.statusCode).toBe(409);
    expect(del.json().error.code).toBe('CONFLICT');
    expect((await flag(member, '00000000-0000-4000-8000-000000000000', { reason: 'spam' })).statusCode).toBe(404);
  });

  it('concurrent identical reports store one flag', async () => {
    const m = await insertMessage(s.db, roomId, author.id);
    const results = await Promise.all(Array.from({ length: 5 }, () => flag(member, m.id, { reason: 'spam' })));
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 200, 200, 200, 201]);
    expect(new Set(results.map((r) => r.json().id)).size).toBe(1);
  });
});

describe('the flag queue', () => {
  it('urgent first, then oldest first, each with its message (hidden bodies visible to moderators)', async () => {
    const room = await newRoom(s.db, { members: [{ id: mod.id, roomRole: 'moderator' }, { id: member.id }, { id: author.id }] });
    const m1 = await insertMessage(s.db, room.id, author.id, 'first');
    const m2 = await insertMessage(s.db, room.id, author.id, 'second');
    const m3 = await insertMessage(s.db, room.id, author.id, 'third');
    const f1 = (await flag(member, m1.id, { reason: 'spam' })).json();
    const f2 = (await flag(member, m2.id, { reason: 'self_harm' })).json();
    const f3 = (await flag(member, m3.id, { reason: 'other' })).json();
    await s.db.updateTable('messages').set({ hidden_at: new Date(), hidden_by: mod.id, hidden_reason: 'x' }).where('id', '=', m3.id).execute();

    const res = await s.app.inject({ method: 'GET', url: `/api/flags?status=open&roomId=${room.id}`, headers: mod.headers });
    expect(res.statusCode).toBe(200);
    const flags = res.json().flags;
    expect(flags.map((f: any) => f.id)).toEqual([f2.id, f1.id, f3.id]);
    expect(flags[2].message).toMatchObject({ id: m3.id, hidden: true, body: 'third' });

    const all = await s.app.inject({ method: 'GET', url: '/api/flags', headers: staff.headers });
    expect(all.json().flags.map((f: any) => f.id)).toEqual(expect.arrayContaining([f1.id, f2.id, f3.id]));
  });

  it('resolving: dismiss, hide_message (live redaction) and delete_message; a closed flag is 409', async () => {
    const m1 = await insertMessage(s.db, roomId, author.id, 'dismiss me');
    const m2 = await insertMessage(s.db, roomId, author.id, 'hide me');
    const m3 = await insertMessage(s.db, roomId, author.id, 'delete me');
    const f1 = (await flag(member, m1.id, { reason: 'spam' })).json();
    const f2 = (await flag(member, m2.id, { reason: 'harassment' })).json();
    const other = await newUser(s.app);
    await s.db.insertInto('room_members').values({ room_id: roomId, user_id: other.id, last_read_seq: 0 }).execute();
    const f2b = (await flag(other, m2.id, { reason: 'harassment' })).json();
    const f3 = (await flag(member, m3.id, { reason: 'personal_info' })).json();
    const memberSocket = await connect(member);
    const resolve = (id: string, payload: object) => s.app.inject({ method: 'POST', url: `/api/flags/${id}/resolve`, headers: mod.headers, payload });

    const d = await resolve(f1.id, { action: 'dismiss', note: 'fine' });
    expect(d.statusCode).toBe(200);
    expect(d.json()).toMatchObject({ status: 'dismissed', resolvedBy: mod.id, resolution: 'dismiss', resolutionNote: 'fine', resolvedAt: expect.any(String) });
    expect((await resolve(f1.id, { action: 'dismiss' })).statusCode).toBe(409);

    const hidden = waitForEvent(memberSocket, 'message:updated', (m: any) => m.id === m2.id);
    const h = await resolve(f2.id, { action: 'hide_message', note: 'unkind' });
    expect(h.json()).toMatchObject({ status: 'resolved', resolution: 'hide_message' });
    expect(await hidden).toMatchObject({ hidden: true, body: null });
    // Every open flag on that message is closed with it.
    expect((await s.db.selectFrom('flags').select('status').where('id', '=', f2b.id).executeTakeFirstOrThrow()).status).toBe('resolved');

    const deleted = waitForEvent(memberSocket, 'message:deleted', (p: any) => p.id === m3.id);
    const x = await resolve(f3.id, { action: 'delete_message' });
    expect(x.json()).toMatchObject({ status: 'resolved', resolution: 'delete_message' });
    expect(await deleted).toEqual({ roomId, id: m3.id, seq: m3.seq });
    const row = await s.db.selectFrom('messages').select(['body', 'deleted_at']).where('id', '=', m3.id).executeTakeFirstOrThrow();
    expect(row.body).toBeNull();
    expect(row.deleted_at).not.toBeNull();

    const audit = await s.db.selectFrom('audit_log').select(['action', 'target_message_id']).where('actor_id', '=', mod.id).where('target_message_id', 'in', [m1.id, m2.id, m3.id]).execute();
    expect(audit.map((a) => `${a.action}:${a.target_message_id}`).sort()).toEqual(
      [`flag_dismiss:${m1.id}`, `flag_resolve:${m2.id}`, `message_hide:${m2.id}`, `flag_resolve:${m3.id}`, `message_delete:${m3.id}`].sort(),
    );
  });
});
