/**
 * Black-box contract test: the BUILT server started the way `npm start` starts it (node
 * dist/src/main.js, embedded PostgreSQL in a fresh DATA_DIR, bootstrap admin from the
 * environment), driven only through /work/shared/API.md: HTTP with fetch, Socket.IO with
 * socket.io-client. Stopped with SIGTERM, which must exit 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';

const ROOT = path.resolve(import.meta.dirname, '../..');
const ADMIN = { handle: 'root_admin', password: 'bootstrap-pass-123' };
const PASSWORD = 'a calm veranda 42';

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

let child: ChildProcess;
let dataDir: string;
let base: string;
let output = '';
const sockets: Socket[] = [];

interface Res<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

async function call<T = any>(method: string, url: string, opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Res<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] ??= 'application/json';
  const res = await fetch(base + url, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await res.text();
  let body: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('json') && text) body = JSON.parse(text);
  return { status: res.status, body: body as T, headers: res.headers };
}

function socketFor(token: string): Promise<Socket> {
  const s = io(base, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  sockets.push(s);
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve(s));
    s.once('connect_error', reject);
  });
}

function nextEvent<T = any>(s: Socket, event: string, match: (p: T) => boolean = () => true, ms = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      s.off(event, on);
      reject(new Error(`no ${event} within ${ms} ms`));
    }, ms);
    const on = (p: T) => {
      if (!match(p)) return;
      clearTimeout(timer);
      s.off(event, on);
      resolve(p);
    };
    s.on(event, on);
  });
}

const expectError = (res: Res, status: number, code: string) => {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.error).toMatchObject({ code, message: expect.any(String) });
};

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const userShape = { id: expect.any(String), handle: expect.any(String), displayName: expect.any(String), role: expect.any(String), createdAt: expect.stringMatching(ISO) };

beforeAll(async () => {
  const port = await freePort();
  dataDir = mkdtempSync(path.join(tmpdir(), 'engawa-blackbox-'));
  base = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), DATA_DIR: dataDir, BOOTSTRAP_ADMIN_HANDLE: ADMIN.handle, BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password, LOG_LEVEL: 'warn' };
  for (const k of ['DATABASE_URL', 'REDIS_URL', 'SOCKET_ADAPTER', 'JWT_SECRET', 'DATA_KEY', 'HOST', 'METRICS_TOKEN', 'NODE_ENV']) delete env[k];
  child = spawn(process.execPath, ['dist/src/main.js'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const deadline = Date.now() + 55_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}:\n${output}`);
    const ok = await fetch(`${base}/readyz`).then((r) => r.status === 200, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`server not ready:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}, 180_000);

afterAll(async () => {
  for (const s of sockets) s.close();
  if (child && child.exitCode === null) {
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

describe('black-box contract (API.md) against the built server', () => {
  const s: Record<string, any> = {};

  it('operations: /healthz, /readyz, /docs, /docs/json, /metrics', async () => {
    expect((await call('GET', '/healthz')).status).toBe(200);
    expect((await call('GET', '/readyz')).status).toBe(200);
    const ui = await fetch(`${base}/docs`);
    expect(ui.status).toBe(200);
    expect(ui.headers.get('content-type')).toMatch(/html/);
    const doc = await call('GET', '/docs/json');
    expect(doc.status).toBe(200);
    for (const p of ['/api/auth/register', '/api/rooms/{id}/messages', '/api/flags', '/api/rooms/{id}/call', '/api/bookings/{id}/confirm', '/api/me/calendar-token']) {
      expect(Object.keys(doc.body.paths)).toContain(p);
    }
    const metrics = await call('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/text\/plain/);
    expect(metrics.body).toMatch(/^# (HELP|TYPE) /m);
  });

  it('sign-in: bootstrap admin, same 401 for wrong password and unknown handle, no token → 401', async () => {
    const login = await call('POST', '/api/auth/login', { body: ADMIN });
    expect(login.status).toBe(200);
    expect(Object.keys(login.body).sort()).toEqual(['accessToken', 'refreshToken', 'user']);
    expect(login.body.user).toEqual({ ...userShape, handle: ADMIN.handle, role: 'admin' });
    s.admin = login.body;
    const wrong = await call('POST', '/api/auth/login', { body: { handle: ADMIN.handle, password: 'not the password' } });
    const unknown = await call('POST', '/api/auth/login', { body: { handle: 'nobody_here', password: 'not the password' } });
    expectError(wrong, 401, 'UNAUTHENTICATED');
    expectError(unknown, 401, 'UNAUTHENTICATED');
    expect(wrong.body.error.message).toBe(unknown.body.error.message);
    expectError(await call('GET', '/api/me'), 401, 'UNAUTHENTICATED');
    expectError(await call('POST', '/api/rooms'), 401, 'UNAUTHENTICATED');
    expectError(await call('GET', '/api/rooms/not-a-uuid', { token: 'garbage' }), 401, 'UNAUTHENTICATED');
    expect((await call('GET', '/api/me', { token: s.admin.accessToken })).body).toEqual({ user: s.admin.user });
  });

  it('invites and registration: staff made by admin, staff may not invite admin, bad codes 401, handle taken 409', async () => {
    const A = s.admin.accessToken;
    const staffInv = await call('POST', '/api/invites', { token: A, body: { role: 'staff' } });
    expect(staffInv.status).toBe(201);
    expect(staffInv.body).toMatchObject({ id: expect.any(String), code: expect.any(String), role: 'staff', roomIds: [], maxUses: 1, uses: 0, expiresAt: expect.stringMatching(ISO), createdAt: expect.stringMatching(ISO) });
    const staff = await call('POST', '/api/auth/register', { body: { inviteCode: staffInv.body.code, handle: 'staff_sato', password: PASSWORD, displayName: '佐藤' } });
    expect(staff.status).toBe(201);
    expect(staff.body.user).toEqual({ ...userShape, handle: 'staff_sato', displayName: '佐藤', role: 'staff' });
    s.staff = staff.body;
    expectError(await call('POST', '/api/invites', { token: s.staff.accessToken, body: { role: 'admin' } }), 403, 'FORBIDDEN');
    const modInv = await call('POST', '/api/invites', { token: s.staff.accessToken, body: { role: 'moderator' } });
    s.mod = (await call('POST', '/api/auth/register', { body: { inviteCode: modInv.body.code, handle: 'peer_mod', password: PASSWORD } })).body;
    expect(s.mod.user.role).toBe('moderator');
    // Used up: the same message as an unknown code.
    const reused = await call('POST', '/api/auth/register', { body: { inviteCode: modInv.body.code, handle: 'someone', password: PASSWORD } });
    const unknown = await call('POST', '/api/auth/register', { body: { inviteCode: 'no-such-code', handle: 'someone', password: PASSWORD } });
    expectError(reused, 401, 'UNAUTHENTICATED');
    expectError(unknown, 401, 'UNAUTHENTICATED');
    expect(reused.body.error.message).toBe(unknown.body.error.message);
    const list = await call('GET', '/api/invites', { token: A });
    expect(list.status).toBe(200);
    expect(list.body.invites.length).toBeGreaterThanOrEqual(2);
    for (const i of list.body.invites) expect(i).not.toHaveProperty('code');
    const spare = await call('POST', '/api/invites', { token: A, body: { role: 'member' } });
    expect((await call('DELETE', `/api/invites/${spare.body.id}`, { token: A })).status).toBe(204);
    expectError(await call('POST', '/api/auth/register', { body: { inviteCode: spare.body.code, handle: 'late', password: PASSWORD } }), 401, 'UNAUTHENTICATED');
    // Bad input: 400 VALIDATION listing the field; unknown fields refused.
    const bad = await call('POST', '/api/invites', { token: A, body: { role: 'member', maxUses: 101 } });
    expectError(bad, 400, 'VALIDATION');
    expect(JSON.stringify(bad.body.error.details)).toContain('maxUses');
    expectError(await call('POST', '/api/invites', { token: A, body: { role: 'member', extra: 1 } }), 400, 'VALIDATION');
  });

  it('rooms: create (201, creator moderator), invite-joined members start with unread 0, 404 for outsiders', async () => {
    const room = await call('POST', '/api/rooms', { token: s.mod.accessToken, body: { name: '縁側ひろば', description: 'ゆっくり' } });
    expect(room.status).toBe(201);
    expect(room.body).toEqual({
      id: expect.any(String), name: '縁側ひろば', description: 'ゆっくり', kind: 'chat', locked: false, slowModeSeconds: 0,
      membersCanStartCalls: false, archived: false, lastSeq: 0, createdAt: expect.stringMatching(ISO), myRole: 'moderator', unread: 0,
    });
    s.room = room.body;
    const first = await call('POST', `/api/rooms/${s.room.id}/messages`, { token: s.mod.accessToken, body: { body: 'ようこそ', clientId: randomUUID() } });
    expect(first.status).toBe(201);
    const inv = await call('POST', '/api/invites', { token: s.staff.accessToken, body: { role: 'member', roomIds: [s.room.id], maxUses: 2 } });
    s.member = (await call('POST', '/api/auth/register', { body: { inviteCode: inv.body.code, handle: 'hikari', password: PASSWORD } })).body;
    s.other = (await call('POST', '/api/auth/register', { body: { inviteCode: inv.body.code, handle: 'kaze', password: PASSWORD } })).body;
    const mine = await call('GET', '/api/rooms', { token: s.member.accessToken });
    expect(mine.body.rooms).toEqual([{ ...s.room, lastSeq: 1, myRole: 'member', unread: 0 }]);
  });

  it('members: list, leave with `me` (204, member:left), 404 for non-members, moderator adds back (201), 409 if in', async () => {
    const members = await call('GET', `/api/rooms/${s.room.id}/members`, { token: s.member.accessToken });
    expect(members.status).toBe(200);
    expect(members.body.members[0]).toEqual({ user: userShape, roomRole: expect.stringMatching(/^(member|moderator)$/), joinedAt: expect.stringMatching(ISO), mutedUntil: null });
    const modSocket = await socketFor(s.mod.accessToken);
    const left = nextEvent(modSocket, 'member:left', (p: any) => p.userId === s.other.user.id);
    expect((await call('DELETE', `/api/rooms/${s.room.id}/members/me`, { token: s.other.accessToken })).status).toBe(204);
    expect(await left).toEqual({ roomId: s.room.id, userId: s.other.user.id });
    expectError(await call('GET', `/api/rooms/${s.room.id}`, { token: s.other.accessToken }), 404, 'NOT_FOUND');
    expectError(await call('GET', `/api/rooms/${s.room.id}/messages`, { token: s.other.accessToken }), 404, 'NOT_FOUND');
    const found = await call('GET', '/api/users?query=kaze', { token: s.mod.accessToken });
    expect(found.status).toBe(200);
    expect(found.body.users).toEqual([{ ...userShape, handle: 'kaze' }]);
    expectError(await call('GET', '/api/users?query=kaze', { token: s.member.accessToken }), 403, 'FORBIDDEN');
    const joined = nextEvent(modSocket, 'member:joined', (p: any) => p.roomId === s.room.id);
    const added = await call('POST', `/api/rooms/${s.room.id}/members`, { token: s.mod.accessToken, body: { userId: s.other.user.id } });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ user: { id: s.other.user.id }, roomRole: 'member' });
    expect(await joined).toMatchObject({ roomId: s.room.id, user: { id: s.other.user.id } });
    expectError(await call('POST', `/api/rooms/${s.room.id}/members`, { token: s.mod.accessToken, body: { userId: s.other.user.id } }), 409, 'CONFLICT');
  });

  it('messages over HTTP and socket: 201 then 200 for the same clientId, one broadcast, catch-up, edit, delete, read marker', async () => {
    const memberSocket = await socketFor(s.member.accessToken);
    const seen: any[] = [];
    memberSocket.on('message:new', (m) => seen.push(m));
    const clientId = randomUUID();
    const sent = await call('POST', `/api/rooms/${s.room.id}/messages`, { token: s.mod.accessToken, body: { body: '  おはよう  ', clientId } });
    expect(sent.status).toBe(201);
    expect(sent.body).toEqual({
      id: expect.any(String), roomId: s.room.id, seq: 2, author: { id: s.mod.user.id, handle: 'peer_mod', displayName: 'peer_mod' },
      body: 'おはよう', replyTo: null, clientId, createdAt: expect.stringMatching(ISO), editedAt: null, deleted: false, hidden: false,
    });
    const again = await call('POST', `/api/rooms/${s.room.id}/messages`, { token: s.mod.accessToken, body: { body: '  おはよう  ', clientId } });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(sent.body);
    // Over the socket, replying to it; the ack carries the message and the broadcast follows.
    const ack: any = await memberSocket.emitWithAck('message:send', { roomId: s.room.id, body: 'おはようございます', clientId: randomUUID(), replyTo: sent.body.id });
    expect(ack).toMatchObject({ ok: true, message: { seq: 3, replyTo: sent.body.id, author: { id: s.member.user.id } } });
    s.reply = ack.message;
    const deadline = Date.now() + 3000;
    while (seen.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(seen.map((m) => m.seq)).toEqual([2, 3]);
    const bad: any = await memberSocket.emitWithAck('message:send', { roomId: s.room.id, body: 'x'.repeat(4001), clientId: randomUUID() });
    expect(bad).toMatchObject({ ok: false, error: { code: 'VALIDATION' } });
    expectError(await call('POST', `/api/rooms/${s.room.id}/messages`, { token: s.member.accessToken, body: { body: 'x'.repeat(4001), clientId: randomUUID() } }), 400, 'VALIDATION');
    const caught: any = await memberSocket.emitWithAck('room:catchup', { roomId: s.room.id, afterSeq: 1 });
    expect(caught.ok).toBe(true);
    expect(caught.messages.map((m: any) => m.seq)).toEqual([2, 3]);
    const history = await call('GET', `/api/rooms/${s.room.id}/messages?after=1&limit=1`, { token: s.member.accessToken });
    expect(history.body.messages.map((m: any) => m.seq)).toEqual([2]);
    const newest = await call('GET', `/api/rooms/${s.room.id}/messages?limit=2`, { token: s.member.accessToken });
    expect(newest.body.messages.map((m: any) => m.seq)).toEqual([2, 3]);
    // Typing reaches the others as {roomId, user}.
    const modSocket = sockets[0];
    const typing = nextEvent(modSocket, 'typing', (p: any) => p.roomId === s.room.id);
    memberSocket.emit('typing', { roomId: s.room.id });
    expect(await typing).toEqual({ roomId: s.room.id, user: { id: s.member.user.id, handle: 'hikari', displayName: 'hikari' } });
    // Edit by the author; delete by the author.
    const updated = nextEvent(modSocket, 'message:updated', (m: any) => m.id === s.reply.id);
    const edited = await call('PATCH', `/api/messages/${s.reply.id}`, { token: s.member.accessToken, body: { body: 'おはようございます！' } });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ body: 'おはようございます！', editedAt: expect.stringMatching(ISO) });
    expect((await updated).body).toBe('おはようございます！');
    const gone = await call('POST', `/api/rooms/${s.room.id}/messages`, { token: s.member.accessToken, body: { body: 'まちがい', clientId: randomUUID() } });
    const deleted = nextEvent(modSocket, 'message:deleted', (p: any) => p.id === gone.body.id);
    expect((await call('DELETE', `/api/messages/${gone.body.id}`, { token: s.member.accessToken })).status).toBe(204);
    expect(await deleted).toEqual({ roomId: s.room.id, id: gone.body.id, seq: gone.body.seq });
    const after = await call('GET', `/api/rooms/${s.room.id}/messages?after=${gone.body.seq - 1}`, { token: s.mod.accessToken });
    expect(after.body.messages[0]).toMatchObject({ seq: gone.body.seq, body: null, deleted: true });
    expect((await call('POST', `/api/rooms/${s.room.id}/read`, { token: s.member.accessToken, body: { seq: gone.body.seq } })).status).toBe(204);
    expect((await call('GET', `/api/rooms/${s.room.id}`, { token: s.member.accessToken })).body).toMatchObject({ lastSeq: gone.body.seq, unread: 0 });
  });

  it('real-time: a bad token is refused with connect_error UNAUTHENTICATED', async () => {
    const err = await socketFor('not-a-token').then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).toBe('UNAUTHENTICATED');
  });

  it('moderation: flag 201 then 200, flag:new, queue with message, hide/unhide, resolve, mute 423, audit', async () => {
    const modSocket = sockets[0];
    const flagNew = nextEvent(modSocket, 'flag:new', (f: any) => f.messageId === s.reply.id);
    const flag = await call('POST', `/api/messages/${s.reply.id}/flags`, { token: s.other.accessToken, body: { reason: 'spam', note: 'ちょっと' } });
    expect(flag.status).toBe(201);
    expect(flag.body).toMatchObject({
      id: expect.any(String), messageId: s.reply.id, roomId: s.room.id, reporter: { id: s.other.user.id, handle: 'kaze' }, reason: 'spam',
      note: 'ちょっと', status: 'open', priority: 'normal', createdAt: expect.stringMatching(ISO), resolvedAt: null, resolvedBy: null, resolution: null,
    });
    expect((await flagNew).id).toBe(flag.body.id);
    const again = await call('POST', `/api/messages/${s.reply.id}/flags`, { token: s.other.accessToken, body: { reason: 'spam' } });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(flag.body.id);
    const queue = await call('GET', `/api/flags?status=open&roomId=${s.room.id}`, { token: s.mod.accessToken });
    expect(queue.status).toBe(200);
    expect(queue.body.flags).toEqual([expect.objectContaining({ id: flag.body.id, message: expect.objectContaining({ id: s.reply.id }) })]);
    expectError(await call('GET', '/api/flags', { token: s.member.accessToken }), 403, 'FORBIDDEN');
    const hidden = await call('POST', `/api/messages/${s.reply.id}/hide`, { token: s.mod.accessToken, body: { reason: 'check' } });
    expect(hidden.status).toBe(200);
    expect(hidden.body).toMatchObject({ hidden: true, body: expect.any(String) });
    const asMember = await call('GET', `/api/rooms/${s.room.id}/messages?after=${s.reply.seq - 1}&limit=1`, { token: s.other.accessToken });
    expect(asMember.body.messages[0]).toMatchObject({ id: s.reply.id, hidden: true, body: null });
    const unhidden = await call('POST', `/api/messages/${s.reply.id}/unhide`, { token: s.mod.accessToken });
    expect(unhidden.status).toBe(200);
    expect(unhidden.body.hidden).toBe(false);
    const resolved = await call('POST', `/api/flags/${flag.body.id}/resolve`, { token: s.mod.accessToken, body: { action: 'dismiss' } });
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({ status: 'dismissed', resolvedBy: s.mod.user.id, resolvedAt: expect.stringMatching(ISO) });
    // Mute: the member is told, then sending is 423 LOCKED.
    const otherSocket = await socketFor(s.other.accessToken);
    const told = nextEvent(otherSocket, 'moderation:applied');
    const mute = await call('POST', `/api/rooms/${s.room.id}/mutes`, { token: s.mod.accessToken, body: { userId: s.other.user.id, minutes: 5, reason: 'ひと休み' } });
    expect(mute.status).toBe(201);
    expect(await told).toMatchObject({ roomId: s.room.id, action: expect.any(String), until: expect.stringMatching(ISO), reason: 'ひと休み' });
    expectError(await call('POST', `/api/rooms/${s.room.id}/messages`, { token: s.other.accessToken, body: { body: 'hi', clientId: randomUUID() } }), 423, 'LOCKED');
    expectError(await call('POST', `/api/rooms/${s.room.id}/mutes`, { token: s.mod.accessToken, body: { userId: s.mod.user.id, minutes: 5, reason: 'self' } }), 403, 'FORBIDDEN');
    expect((await call('DELETE', `/api/rooms/${s.room.id}/mutes/${s.other.user.id}`, { token: s.mod.accessToken })).status).toBe(204);
    // A block filter refuses the send with details.filter.
    const filter = await call('POST', '/api/filters', { token: s.staff.accessToken, body: { pattern: 'blockedword', action: 'block' } });
    expect(filter.status).toBe(201);
    const blocked = await call('POST', `/api/rooms/${s.room.id}/messages`, { token: s.other.accessToken, body: { body: 'a BLOCKEDWORD here', clientId: randomUUID() } });
    expectError(blocked, 400, 'VALIDATION');
    expect(blocked.body.error.details).toHaveProperty('filter');
    // A built-in crisis word: delivered, automatic urgent flag, crisis:alert to moderators, resources to the author.
    const alert = nextEvent(modSocket, 'crisis:alert');
    const resources = nextEvent(otherSocket, 'support:resources');
    const crisis = await call('POST', `/api/rooms/${s.room.id}/messages`, { token: s.other.accessToken, body: { body: 'もう消えたい', clientId: randomUUID() } });
    expect(crisis.status).toBe(201);
    const a = await alert;
    expect(a).toMatchObject({ roomId: s.room.id, message: { id: crisis.body.id }, flag: { reporter: null, priority: 'urgent', messageId: crisis.body.id } });
    expect((await resources).resources.length).toBeGreaterThan(0);
    // Empty query values mean "not given" (API.md writes `?status=open&roomId=`).
    expect((await call('GET', '/api/flags?status=&roomId=', { token: s.staff.accessToken })).status).toBe(200);
    expect((await call('GET', '/api/audit?roomId=&actorId=&limit=', { token: s.staff.accessToken })).status).toBe(200);
    const urgentFirst = await call('GET', '/api/flags', { token: s.staff.accessToken });
    expect(urgentFirst.body.flags[0]).toMatchObject({ priority: 'urgent', reporter: null });
    const audit = await call('GET', `/api/audit?roomId=${s.room.id}`, { token: s.staff.accessToken });
    expect(audit.status).toBe(200);
    expect(audit.body.entries.length).toBeGreaterThanOrEqual(4);
    for (const e of audit.body.entries) {
      expect(e).toMatchObject({ id: expect.any(String), action: expect.stringMatching(/^[a-z]+(_[a-z]+)+$/), roomId: s.room.id, createdAt: expect.stringMatching(ISO) });
      for (const k of ['actor', 'targetUserId', 'targetMessageId', 'reason']) expect(e).toHaveProperty(k);
    }
  });

  it('calls: 201 then 200 for the live call, personal joinUrl, ended by the starter with call:ended', async () => {
    const memberSocket = sockets[1];
    const started = nextEvent(memberSocket, 'call:started');
    const call1 = await call('POST', `/api/rooms/${s.room.id}/call`, { token: s.mod.accessToken });
    expect(call1.status).toBe(201);
    expect(call1.body).toEqual({ id: expect.any(String), roomId: s.room.id, startedBy: s.mod.user.id, provider: expect.any(String), startedAt: expect.stringMatching(ISO), expiresAt: expect.stringMatching(ISO), endedAt: null });
    expect((await started).id).toBe(call1.body.id);
    const call2 = await call('POST', `/api/rooms/${s.room.id}/call`, { token: s.mod.accessToken, body: {} });
    expect(call2.status).toBe(200);
    expect(call2.body.id).toBe(call1.body.id);
    expectError(await call('POST', `/api/rooms/${s.room.id}/call`, { token: s.member.accessToken }), 403, 'FORBIDDEN');
    const link = await call('GET', `/api/rooms/${s.room.id}/call`, { token: s.member.accessToken });
    expect(link.status).toBe(200);
    expect(link.body.call).toEqual(call1.body);
    expect(link.body.joinUrl).toMatch(/^https:\/\/meet\.jit\.si\/[^/#?]+#config\.startWithVideoMuted=true&config\.startWithAudioMuted=true/);
    const meeting = new URL(link.body.joinUrl).pathname.slice(1);
    expect(meeting.length).toBeGreaterThanOrEqual(22);
    expect(link.body.joinUrl).not.toContain(s.room.id);
    const ended = nextEvent(memberSocket, 'call:ended');
    expect((await call('DELETE', `/api/rooms/${s.room.id}/call`, { token: s.mod.accessToken, headers: { 'content-type': 'application/json' } })).status).toBe(204);
    expect(await ended).toEqual({ roomId: s.room.id, callId: call1.body.id });
    expectError(await call('GET', `/api/rooms/${s.room.id}/call`, { token: s.member.accessToken }), 404, 'NOT_FOUND');
  });

  it('bookings: slot, visit booking with the address for the member and staff, confirm, booking:updated, calendar feed', async () => {
    const startsAt = new Date(Date.now() + 3 * 24 * 3600_000);
    startsAt.setUTCMinutes(0, 0, 0);
    const endsAt = new Date(startsAt.getTime() + 60 * 60_000);
    const slot = await call('POST', '/api/slots', { token: s.staff.accessToken, body: { startsAt: startsAt.toISOString(), endsAt: endsAt.toISOString(), kinds: ['office', 'visit'], location: '相談室A' } });
    expect(slot.status).toBe(201);
    expect(slot.body).toEqual({ id: expect.any(String), staff: { id: s.staff.user.id, displayName: '佐藤' }, startsAt: startsAt.toISOString(), endsAt: endsAt.toISOString(), kinds: ['office', 'visit'], location: '相談室A', booked: false });
    expectError(await call('POST', '/api/slots', { token: s.staff.accessToken, body: { startsAt: startsAt.toISOString(), endsAt: endsAt.toISOString(), kinds: ['office'] } }), 409, 'CONFLICT');
    expect((await call('GET', '/api/slots?from=&to=&kind=', { token: s.member.accessToken })).status).toBe(200);
    const open = await call('GET', '/api/slots?kind=visit', { token: s.member.accessToken });
    expect(open.body.slots.map((x: any) => x.id)).toContain(slot.body.id);
    expectError(await call('POST', '/api/bookings', { token: s.member.accessToken, body: { slotId: slot.body.id, kind: 'visit' } }), 400, 'VALIDATION');
    const booking = await call('POST', '/api/bookings', { token: s.member.accessToken, body: { slotId: slot.body.id, kind: 'visit', note: '初めてです', visitAddress: '東京都千代田区1-1' } });
    expect(booking.status).toBe(201);
    expect(booking.body).toMatchObject({
      id: expect.any(String), slotId: slot.body.id, kind: 'visit', status: 'requested', startsAt: startsAt.toISOString(), endsAt: endsAt.toISOString(),
      staff: { id: s.staff.user.id, displayName: '佐藤' }, member: { id: s.member.user.id, handle: 'hikari', displayName: 'hikari' },
      note: '初めてです', location: '相談室A', visitAddress: '東京都千代田区1-1', cancelReason: null, createdAt: expect.stringMatching(ISO), updatedAt: expect.stringMatching(ISO),
    });
    expectError(await call('POST', '/api/bookings', { token: s.other.accessToken, body: { slotId: slot.body.id, kind: 'office' } }), 409, 'CONFLICT');
    const staffView = await call('GET', '/api/bookings', { token: s.staff.accessToken });
    expect(staffView.body.bookings).toEqual([expect.objectContaining({ id: booking.body.id, visitAddress: '東京都千代田区1-1' })]);
    const memberSocket = sockets[1];
    const updated = nextEvent(memberSocket, 'booking:updated', (b: any) => b.id === booking.body.id);
    const confirmed = await call('POST', `/api/bookings/${booking.body.id}/confirm`, { token: s.staff.accessToken });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.status).toBe('confirmed');
    expect(await updated).toMatchObject({ id: booking.body.id, status: 'confirmed' });
    expectError(await call('POST', `/api/bookings/${booking.body.id}/confirm`, { token: s.staff.accessToken, body: {} }), 409, 'CONFLICT');
    expectError(await call('POST', `/api/bookings/${booking.body.id}/confirm`, { token: s.member.accessToken }), 403, 'FORBIDDEN');
    const audit = await call('GET', '/api/audit', { token: s.admin.accessToken });
    expect(audit.body.entries.some((e: any) => e.action === 'booking_address_read' && e.targetUserId === s.member.user.id)).toBe(true);
    const feedToken = await call('POST', '/api/me/calendar-token', { token: s.staff.accessToken });
    expect(feedToken.status).toBe(201);
    expect(feedToken.body).toEqual({ token: expect.any(String), url: expect.stringContaining('/api/bookings/calendar.ics?token=') });
    const ics = await fetch(`${base}/api/bookings/calendar.ics?token=${encodeURIComponent(feedToken.body.token)}`);
    expect(ics.status).toBe(200);
    expect(ics.headers.get('content-type')).toMatch(/^text\/calendar/);
    const text = await ics.text();
    expect(text).toContain('BEGIN:VCALENDAR');
    expect(text).not.toContain('千代田');
    await call('POST', '/api/me/calendar-token', { token: s.staff.accessToken });
    expectError(await call('GET', `/api/bookings/calendar.ics?token=${encodeURIComponent(feedToken.body.token)}`), 401, 'UNAUTHENTICATED');
    const cancelled = await call('POST', `/api/bookings/${booking.body.id}/cancel`, { token: s.member.accessToken, body: {} });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
  });

  it('tokens: refresh rotates; replaying the old one kills the family; PATCH /api/me; suspension → 423 and socket dropped', async () => {
    const r1 = await call('POST', '/api/auth/refresh', { body: { refreshToken: s.member.refreshToken } });
    expect(r1.status).toBe(200);
    expect(Object.keys(r1.body).sort()).toEqual(['accessToken', 'refreshToken']);
    expectError(await call('POST', '/api/auth/refresh', { body: { refreshToken: s.member.refreshToken } }), 401, 'UNAUTHENTICATED');
    expectError(await call('POST', '/api/auth/refresh', { body: { refreshToken: r1.body.refreshToken } }), 401, 'UNAUTHENTICATED');
    const me = await call('PATCH', '/api/me', { token: s.other.accessToken, body: { displayName: 'かぜ', password: { current: PASSWORD, next: 'another calm veranda' } } });
    expect(me.status).toBe(200);
    expect(me.body.user).toEqual({ ...userShape, handle: 'kaze', displayName: 'かぜ' });
    const login = await call('POST', '/api/auth/login', { body: { handle: 'kaze', password: 'another calm veranda' } });
    expect(login.status).toBe(200);
    expect((await call('POST', '/api/auth/logout', { token: login.body.accessToken, body: { refreshToken: login.body.refreshToken } })).status).toBe(204);
    const memberSocket = sockets[1];
    const dropped = new Promise((resolve) => memberSocket.once('disconnect', resolve));
    const sus = await call('POST', `/api/users/${s.member.user.id}/suspend`, { token: s.staff.accessToken, body: { reason: 'テスト' } });
    expect(sus.status).toBe(200);
    await dropped;
    expectError(await call('POST', '/api/auth/login', { body: { handle: 'hikari', password: PASSWORD } }), 423, 'LOCKED');
    expect((await call('POST', `/api/users/${s.member.user.id}/unsuspend`, { token: s.staff.accessToken })).status).toBe(200);
    expect((await call('POST', '/api/auth/login', { body: { handle: 'hikari', password: PASSWORD } })).status).toBe(200);
  });

  it('a body over 1 MiB is 413 PAYLOAD_TOO_LARGE', async () => {
    const res = await call('POST', '/api/rooms', { token: s.mod.accessToken, body: { name: 'x'.repeat(1024 * 1024 + 10) } });
    expectError(res, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('SIGTERM stops the server (and its embedded PostgreSQL) with exit code 0', async () => {
    for (const so of sockets) so.close();
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 20_000);
});
