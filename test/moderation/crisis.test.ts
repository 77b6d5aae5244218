import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newRoom, newUser, postMessage, type TestUser } from '../helpers/factories.js';
import { recordAll, useSockets, waitForEvent } from '../helpers/sockets.js';
import { screenBody } from '../../src/modules/moderation/screen.js';
import { DEFAULT_SUPPORT_RESOURCES, supportResources } from '../../src/modules/moderation/resources.js';

const CUSTOM_RESOURCES = [{ name: '札幌こころのセンター', phone: '011-000-0000', hours: '平日 9:00〜17:00' }];

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ SUPPORT_RESOURCES: JSON.stringify(CUSTOM_RESOURCES) });
});
afterAll(async () => {
  await s?.close();
});
const connect = useSockets(() => s);
const send = (u: TestUser, roomId: string, body: string) => postMessage(s.app, u, roomId, body);

describe('crisis care', () => {
  it('delivers the message, alerts staff and the room’s moderators within 1 s, helps the writer alone', async () => {
    const writer = await newUser(s.app);
    const member = await newUser(s.app);
    const mod = await newUser(s.app);
    const staff = await newUser(s.app, { role: 'staff' });
    const otherRoomMod = await newUser(s.app);
    const room = await newRoom(s.db, { members: [{ id: writer.id }, { id: member.id }, { id: mod.id, roomRole: 'moderator' }] });
    await newRoom(s.db, { members: [{ id: otherRoomMod.id, roomRole: 'moderator' }] });
    const [writerS, memberS, modS, staffS, otherS] = await Promise.all([writer, member, mod, staff, otherRoomMod].map(connect));
    const frames = { writer: recordAll(writerS), member: recordAll(memberS), mod: recordAll(modS), staff: recordAll(staffS), other: recordAll(otherS) };

    const memberGetsMessage = waitForEvent(memberS, 'message:new', (m: any) => m.roomId === room.id);
    const staffAlert = waitForEvent(staffS, 'crisis:alert', (p: any) => p.roomId === room.id, 1_000);
    const modAlert = waitForEvent(modS, 'crisis:alert', (p: any) => p.roomId === room.id, 1_000);
    const help = waitForEvent(writerS, 'support:resources', () => true, 1_000);
    const res = await send(writer, room.id, 'もう死にたい');
    expect(res.statusCode).toBe(201);
    const message = res.json();
    expect(message.body).toBe('もう死にたい');
    expect(await memberGetsMessage).toMatchObject({ id: message.id, body: 'もう死にたい' });

    const alert = await staffAlert;
    expect(alert).toMatchObject({
      roomId: room.id,
      message: { id: message.id, body: 'もう死にたい' },
      flag: { messageId: message.id, reporter: null, reason: 'self_harm', priority: 'urgent', status: 'open' },
    });
    expect((await modAlert).flag.id).toBe(alert.flag.id);
    expect(await help).toEqual({ resources: CUSTOM_RESOURCES });

    // The automatic flag is in the queue, first.
    const queue = await s.app.inject({ method: 'GET', url: `/api/flags?roomId=${room.id}`, headers: mod.headers });
    expect(queue.json().flags[0]).toMatchObject({ id: alert.flag.id, priority: 'urgent', reporter: null });

    // A later ordinary message proves every frame before it has arrived.
    const done = Promise.all([memberS, writerS, modS].map((c) => waitForEvent(c, 'message:new', (m: any) => m.body === 'お茶にしましょう')));
    await send(member, room.id, 'お茶にしましょう');
    await done;
    const events = (f: Array<{ event: string }>) => f.map((x) => x.event);
    expect(events(frames.member)).not.toContain('crisis:alert');
    expect(events(frames.member)).not.toContain('support:resources');
    expect(events(frames.member)).not.toContain('flag:new');
    expect(events(frames.writer)).not.toContain('crisis:alert');
    expect(events(frames.writer)).not.toContain('flag:new');
    expect(events(frames.writer).filter((e) => e === 'support:resources')).toHaveLength(1);
    expect(events(frames.mod)).not.toContain('support:resources');
    expect(events(frames.staff)).not.toContain('support:resources');
    expect(frames.other).toEqual([]);
  });

  it('ｼﾆﾀｲ (half-width katakana) and ｋｉｌｌ　ｍｙｓｅｌｆ (full-width) are crises too', async () => {
    const writer = await newUser(s.app);
    const room = await newRoom(s.db, { members: [{ id: writer.id }] });
    const writerS = await connect(writer);
    for (const body of ['ｼﾆﾀｲ…', 'I want to ｋｉｌｌ　ｍｙｓｅｌｆ', 'ＳＵＩＣＩＤＥ']) {
      const help = waitForEvent(writerS, 'support:resources', () => true, 1_000);
      const res = await send(writer, room.id, body);
      expect(res.statusCode, body).toBe(201);
      await help;
      const f = await s.db.selectFrom('flags').select(['priority', 'reporter_id']).where('message_id', '=', res.json().id).executeTakeFirstOrThrow();
      expect(f).toEqual({ priority: 'urgent', reporter_id: null });
    }
  });

  it('a `flag` filter delivers and files a normal automatic flag; a `block` filter refuses with 400 and stores nothing', async () => {
    const staff = await newUser(s.app, { role: 'staff' });
    const writer = await newUser(s.app);
    const room = await newRoom(s.db, { members: [{ id: writer.id }] });
    for (const [pattern, action] of [['ばかやろう', 'flag'], ['ＢＵＹ　ＮＯＷ', 'block']]) {
      const r = await s.app.inject({ method: 'POST', url: '/api/filters', headers: staff.headers, payload: { pattern, action } });
      expect(r.statusCode).toBe(201);
    }
    const flagged = await send(writer, room.id, 'このバカヤロウ');
    expect(flagged.statusCode).toBe(201);
    const f = await s.db.selectFrom('flags').select(['priority', 'reporter_id', 'reason']).where('message_id', '=', flagged.json().id).executeTakeFirstOrThrow();
    expect(f).toEqual({ priority: 'normal', reporter_id: null, reason: 'other' });

    const lastSeq = (await s.db.selectFrom('rooms').select('last_seq').where('id', '=', room.id).executeTakeFirstOrThrow()).last_seq;
    const blocked = await send(writer, room.id, 'buy now, cheap!');
    expect(blocked.statusCode).toBe(400);
    expect(blocked.json().error).toMatchObject({ code: 'VALIDATION', details: { filter: expect.anything() } });
    expect((await s.db.selectFrom('rooms').select('last_seq').where('id', '=', room.id).executeTakeFirstOrThrow()).last_seq).toBe(lastSeq);
    expect(await s.db.selectFrom('messages').select('id').where('author_id', '=', writer.id).execute()).toHaveLength(1);
  });
});

describe('word filter matching (NFKC, case-insensitive, katakana = hiragana)', () => {
  it('matches the variants and picks the strongest action', async () => {
    const cases: Array<[string, string | null]> = [
      ['死にたい', 'crisis'],
      ['しにたい', 'crisis'],
      ['シニタイ', 'crisis'],
      ['ｼﾆﾀｲ', 'crisis'],
      ['きえたい', 'crisis'],
      ['キエタイ', 'crisis'],
      ['リスカしちゃった', 'crisis'],
      ['ﾘｽｶ', 'crisis'],
      ['KILL MYSELF', 'crisis'],
      ['kill  myself', 'crisis'], // runs of white space are one space
      ['ｋｉｌｌ　ｍｙｓｅｌｆ', 'crisis'],
      ['今日は良い天気', null],
      ['skill myselfie', 'crisis'], // substring match: documented as such
    ];
    for (const [body, action] of cases) expect((await screenBody(s.db, body))?.action ?? null, body).toBe(action);
    await s.db.insertInto('word_filters').values({ pattern: 'ひどいやつ', pattern_key: 'ひどいやつ', action: 'block' }).execute();
    expect((await screenBody(s.db, '死にたい、ひどいやつ'))?.action).toBe('block'); // block > crisis
  });

  it('a filter change applies to the next message; duplicates after normalisation are 409; built-ins are editable', async () => {
    const staff = await newUser(s.app, { role: 'staff' });
    const add = await s.app.inject({ method: 'POST', url: '/api/filters', headers: staff.headers, payload: { pattern: 'ﾁｮｺﾚｰﾄ', action: 'flag' } });
    expect(add.statusCode).toBe(201);
    expect(add.json()).toMatchObject({ pattern: 'ﾁｮｺﾚｰﾄ', action: 'flag', builtin: false, createdBy: staff.id });
    expect((await screenBody(s.db, 'ちょこれーと'))?.action).toBe('flag');
    const dup = await s.app.inject({ method: 'POST', url: '/api/filters', headers: staff.headers, payload: { pattern: 'チョコレート', action: 'block' } });
    expect(dup.statusCode).toBe(409);

    const list = await s.app.inject({ method: 'GET', url: '/api/filters', headers: staff.headers });
    const builtin = list.json().filters.find((f: any) => f.pattern === '消えたい');
    expect(builtin).toMatchObject({ action: 'crisis', builtin: true });
    expect((await s.app.inject({ method: 'DELETE', url: `/api/filters/${builtin.id}`, headers: staff.headers })).statusCode).toBe(204);
    expect(await screenBody(s.db, '消えたい')).toBeNull();
    expect((await s.app.inject({ method: 'DELETE', url: `/api/filters/${builtin.id}`, headers: staff.headers })).statusCode).toBe(404);
    const audit = await s.db.selectFrom('audit_log').select('action').where('actor_id', '=', staff.id).orderBy('created_at').execute();
    expect(audit.map((a) => a.action)).toEqual(['filter_create', 'filter_delete']);
  });
});

describe('support resources configuration', () => {
  it('defaults to the Japanese national lines; SUPPORT_RESOURCES must be a valid JSON array', () => {
    expect(supportResources({ SUPPORT_RESOURCES: undefined })).toBe(DEFAULT_SUPPORT_RESOURCES);
    expect(DEFAULT_SUPPORT_RESOURCES.map((r) => r.phone)).toEqual(expect.arrayContaining(['0120-279-338', '0570-064-556']));
    expect(() => supportResources({ SUPPORT_RESOURCES: 'not json' })).toThrow(/not valid JSON/);
    expect(() => supportResources({ SUPPORT_RESOURCES: '[]' })).toThrow(/SUPPORT_RESOURCES/);
    expect(() => supportResources({ SUPPORT_RESOURCES: '[{"phone":"1"}]' })).toThrow(/name/);
  });

  it('a bad SUPPORT_RESOURCES stops the server at start', async () => {
    await expect(startTestServer({ SUPPORT_RESOURCES: '[{"name": 3}]' }, { databaseUrl: s.databaseUrl })).rejects.toThrow(/SUPPORT_RESOURCES/);
  });
});
