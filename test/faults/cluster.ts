import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { io as connect, type Socket } from 'socket.io-client';
import { freePort } from '../../src/db/embedded.js';
import { afterAll, beforeAll } from 'vitest';
import { newRoom, newUser } from '../helpers/factories.js';
import { createTestDatabase, startTestServer, TEST_DATA_KEY, TEST_JWT_SECRET, type TestServer } from '../helpers/server.js';

/**
 * Real processes for the fault tests: the BUILT server (`node dist/src/main.js`) as app nodes, a
 * private redis-server, and simulated members that send with retries and catch up on gaps.
 * Everything listens on 127.0.0.1 only.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
const MAIN = path.join(ROOT, 'dist/src/main.js');

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function getJson(url: string): Promise<{ status: number; body: any } | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3_000) });
    return { status: res.status, body: await res.json().catch(() => undefined) };
  } catch {
    return undefined;
  }
}

export interface Node {
  url: string;
  proc: ChildProcess;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
  exitCode(): number | string | undefined;
  output(): string;
  stop(): Promise<void>;
}

/** Starts `node dist/src/main.js` and resolves once /healthz answers. */
export async function startNode(env: Record<string, string>, opts: { dataDir?: string } = {}): Promise<Node> {
  const port = await freePort();
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(tmpdir(), 'engawa-node-'));
  const proc = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: dataDir,
      JWT_SECRET: TEST_JWT_SECRET,
      DATA_KEY: TEST_DATA_KEY,
      LOG_LEVEL: 'warn',
      // The fault tests send far faster than a person; the per-user limit is not what they test.
      MESSAGE_RATE_LIMIT: '1000/1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  let code: number | string | undefined;
  const exited = new Promise<number | string>((resolve) => {
    proc.once('exit', (c, signal) => {
      code = c ?? signal ?? 'unknown';
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
      resolve(code);
    });
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor('the node to listen', async () => code === undefined && (await getJson(`${url}/healthz`))?.status === 200, 30_000, 100);
  } catch (err) {
    proc.kill('SIGKILL');
    throw new Error(`node did not start (exit ${code}):\n${out}`, { cause: err });
  }
  return {
    url,
    proc,
    exited,
    exitCode: () => code,
    output: () => out,
    async stop() {
      if (code === undefined) {
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 12_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** A private redis-server on a free loopback port (never the machine's 6379); stop/start keep the port. */
export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  let proc: ChildProcess | undefined;
  const ping = () => spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG';
  const server: RedisServer = {
    url: `redis://127.0.0.1:${port}`,
    port,
    async start() {
      proc = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      proc.once('error', (err) => {
        throw new Error(`redis-server could not start (is it installed?): ${err.message}`);
      });
      await waitFor('redis to answer', () => ping(), 10_000, 50);
    },
    async stop() {
      const p = proc;
      if (!p || p.exitCode !== null) return;
      const gone = new Promise((r) => p.once('exit', r));
      p.kill('SIGKILL');
      await gone;
    },
  };
  await server.start();
  return server;
}

/** A temporary folder the embedded PostgreSQL may use (as root it runs as the postgres user). */
export function tempDataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'engawa-fault-'));
  chmodSync(dir, 0o755);
  return dir;
}

type Ack = { ok: true; message?: { id: string; seq: number; clientId: string }; messages?: Array<{ id: string; seq: number }> } | { ok: false; error: { code: string; message: string } };

/**
 * A member's client as the SPA behaves: sends with a clientId and retries the SAME clientId until
 * acked; keeps every seq it has seen; on a seq jump or a reconnect asks `room:catchup` for the gap.
 * `urls` are the nodes it may connect to (a proxy's job in production): on a lost connection it
 * moves to the next live one.
 */
export class Member {
  socket!: Socket;
  /** The node this member is connected to now. */
  url = '';
  readonly seen = new Map<number, string>();
  /** Messages this member first got from room:catchup rather than live. */
  viaCatchUp = 0;
  /** Highest seq up to which nothing is missing. */
  contiguous = 0;
  readonly acked: Array<{ clientId: string; id: string; seq: number }> = [];
  readonly failures: string[] = [];
  /** Every `{ok: false}` ack, as it came (code and time). */
  readonly refusals: Array<{ code: string; at: number }> = [];
  private urlIndex = 0;
  private catchingUp: Promise<void> | undefined;
  private closed = false;

  constructor(
    readonly token: string,
    readonly roomId: string,
    private urls: () => string[],
  ) {}

  async connect(preferred = 0): Promise<void> {
    this.urlIndex = preferred;
    for (let attempt = 0; attempt < 200 && !this.closed; attempt++) {
      const list = this.urls();
      const url = list[this.urlIndex % list.length];
      const socket = connect(url, { auth: { token: this.token }, transports: ['websocket'], reconnection: false, forceNew: true, timeout: 3_000 });
      const ok = await new Promise<boolean>((resolve) => {
        socket.once('connect', () => resolve(true));
        socket.once('connect_error', () => resolve(false));
      });
      if (!ok) {
        socket.close();
        this.urlIndex++;
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      this.socket = socket;
      this.url = url;
      socket.on('message:new', (m: { roomId: string; seq: number; id: string }) => {
        if (m.roomId === this.roomId) this.record([m]);
      });
      socket.once('disconnect', () => {
        if (!this.closed) this.connect(this.urlIndex + 1).catch((err: Error) => this.failures.push(err.message));
      });
      await this.catchUp();
      return;
    }
    if (!this.closed) throw new Error('could not connect to any node');
  }

  private record(messages: Array<{ seq: number; id: string }>): void {
    for (const m of messages) {
      const known = this.seen.get(m.seq);
      if (known && known !== m.id) this.failures.push(`seq ${m.seq} arrived as two different messages`);
      this.seen.set(m.seq, m.id);
    }
    while (this.seen.has(this.contiguous + 1)) this.contiguous++;
    // A seq beyond the next one means something was missed: fetch the gap.
    if (this.seen.size > this.contiguous) void this.catchUp();
  }

  /** room:catchup from the last contiguous seq until the answer is short. */
  catchUp(): Promise<void> {
    if (this.catchingUp) return this.catchingUp;
    this.catchingUp = (async () => {
      try {
        for (let page = 0; page < 50; page++) {
          if (!this.socket?.connected) return;
          const ack: Ack = await this.socket.timeout(5_000).emitWithAck('room:catchup', { roomId: this.roomId, afterSeq: this.contiguous });
          if (!ack.ok) return;
          const before = this.contiguous;
          for (const m of ack.messages ?? []) {
            if (!this.seen.has(m.seq)) this.viaCatchUp++;
            this.seen.set(m.seq, m.id);
          }
          while (this.seen.has(this.contiguous + 1)) this.contiguous++;
          if ((ack.messages?.length ?? 0) < 200 || this.contiguous === before) return;
        }
      } catch {
        /* disconnected or timed out: the next reconnect or gap asks again */
      } finally {
        this.catchingUp = undefined;
      }
    })();
    return this.catchingUp;
  }

  /**
   * Sends one message, retrying the same clientId (after reconnecting if needed) until it is acked
   * ok or `attempts` run out. Returns every ack it got, in order.
   */
  async send(body: string, clientId: string, attempts = 40): Promise<Ack[]> {
    const acks: Ack[] = [];
    for (let i = 0; i < attempts && !this.closed; i++) {
      if (!this.socket?.connected) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      try {
        const ack: Ack = await this.socket.timeout(4_000).emitWithAck('message:send', { roomId: this.roomId, body, clientId });
        acks.push(ack);
        if (!ack.ok) this.refusals.push({ code: ack.error.code, at: Date.now() });
        if (ack.ok) {
          this.acked.push({ clientId, id: ack.message!.id, seq: ack.message!.seq });
          return acks;
        }
      } catch {
        // no ack (timeout or the connection dropped): retry with the same clientId
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    this.failures.push(`message ${clientId} never acked`);
    return acks;
  }

  close(): void {
    this.closed = true;
    this.socket?.close();
  }
}

export interface TwoNodeCluster {
  /** The test's own database, shared by both nodes. */
  database: { url: string; drop: () => Promise<void> };
  /** An in-process app on the same database, used only to make users and rooms (no sockets of its own). */
  factory: TestServer;
  /** A redis-server of this test's own: stopping it never touches the machine's 6379. */
  redis: RedisServer;
  nodes: Node[];
  members: Member[];
  /** URLs of the nodes still running. */
  live(): string[];
  /** A new room with `count` new users in it, each as a (not yet connected) Member. */
  roomWithMembers(count: number): Promise<{ room: { id: string }; members: Member[] }>;
}

/**
 * Two built server processes on one database and a private Redis, started before the file's tests
 * and stopped after them (with the members' sockets, the factory app and the database).
 */
export function useTwoNodeCluster(): TwoNodeCluster {
  const c = { nodes: [] as Node[], members: [] as Member[] } as TwoNodeCluster;
  c.live = () => c.nodes.filter((n) => n.exitCode() === undefined).map((n) => n.url);
  c.roomWithMembers = async (count) => {
    const users = await Promise.all(Array.from({ length: count }, () => newUser(c.factory.app)));
    const room = await newRoom(c.factory.db, { members: users.map((u) => ({ id: u.id })) });
    const members = users.map((u) => new Member(u.token, room.id, c.live));
    c.members.push(...members);
    return { room, members };
  };
  beforeAll(async () => {
    c.database = await createTestDatabase();
    c.factory = await startTestServer({}, { databaseUrl: c.database.url });
    c.redis = await startRedis();
    const env = { DATABASE_URL: c.database.url, REDIS_URL: c.redis.url, SOCKET_ADAPTER: 'redis' };
    c.nodes = await Promise.all([startNode(env), startNode(env)]);
  }, 240_000);
  afterAll(async () => {
    for (const m of c.members) m.close();
    await Promise.all(c.nodes.map((n) => n.stop()));
    await c.redis?.stop();
    await c.factory?.close();
    await c.database?.drop();
  });
  return c;
}
