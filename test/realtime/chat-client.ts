import { io as connect, type Socket } from 'socket.io-client';

export interface LoggedMessage {
  id: string;
  roomId: string;
  seq: number;
  body: string | null;
  deleted: boolean;
  hidden: boolean;
  [key: string]: unknown;
}

interface RoomLog {
  messages: Map<number, LoggedMessage>;
  /** Highest seq with every seq 1..last present. */
  last: number;
  catchingUp: boolean;
  again: boolean;
  waiters: Array<{ seq: number; resolve: () => void }>;
}

/**
 * A minimal client of the catch-up contract (docs/chat.md): it keeps a gap-free log per room.
 * After every (re)connect, and whenever a `message:new` arrives with a seq beyond last+1, it asks
 * `room:catchup {roomId, afterSeq: last}` until a page comes back shorter than 200.
 */
export class ChatClient {
  readonly socket: Socket;
  private readonly rooms = new Map<string, RoomLog>();
  catchups = 0;

  constructor(url: string, token: string, roomIds: string[]) {
    for (const id of roomIds) this.rooms.set(id, { messages: new Map(), last: 0, catchingUp: false, again: false, waiters: [] });
    this.socket = connect(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true, autoConnect: false });
    this.socket.on('connect', () => {
      for (const id of this.rooms.keys()) void this.catchUp(id);
    });
    this.socket.on('message:new', (m: LoggedMessage) => {
      const log = this.rooms.get(m.roomId);
      if (!log) return;
      this.store(log, m);
      if (m.seq > log.last + 1 || log.messages.size > log.last) void this.catchUp(m.roomId);
    });
    this.socket.on('message:updated', (m: LoggedMessage) => {
      const log = this.rooms.get(m.roomId);
      if (log?.messages.has(m.seq)) log.messages.set(m.seq, m);
    });
    this.socket.on('message:deleted', (p: { roomId: string; seq: number }) => {
      const m = this.rooms.get(p.roomId)?.messages.get(p.seq);
      if (m) Object.assign(m, { body: null, deleted: true });
    });
  }

  /** Connects (or reconnects) and resolves once connected; the catch-up then runs by itself. */
  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once('connect', () => resolve());
      this.socket.once('connect_error', reject);
      this.socket.connect();
    });
  }

  close(): void {
    this.socket.disconnect();
  }

  log(roomId: string): LoggedMessage[] {
    const log = this.rooms.get(roomId)!;
    return [...log.messages.values()].sort((a, b) => a.seq - b.seq);
  }

  lastSeq(roomId: string): number {
    return this.rooms.get(roomId)!.last;
  }

  /** Resolves once the log of the room is complete up to `seq`. */
  waitForSeq(roomId: string, seq: number, timeoutMs = 20_000): Promise<void> {
    const log = this.rooms.get(roomId)!;
    if (log.last >= seq) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`log of ${roomId} stuck at ${log.last}, wanted ${seq}`)), timeoutMs);
      log.waiters.push({
        seq,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  private store(log: RoomLog, m: LoggedMessage): void {
    log.messages.set(m.seq, m);
    while (log.messages.has(log.last + 1)) log.last++;
    log.waiters = log.waiters.filter((w) => (w.seq <= log.last ? (w.resolve(), false) : true));
  }

  private async catchUp(roomId: string): Promise<void> {
    const log = this.rooms.get(roomId)!;
    if (log.catchingUp) {
      log.again = true;
      return;
    }
    log.catchingUp = true;
    try {
      do {
        log.again = false;
        for (;;) {
          if (!this.socket.connected) return;
          this.catchups++;
          const res = await this.socket.timeout(10_000).emitWithAck('room:catchup', { roomId, afterSeq: log.last });
          if (!res.ok) throw new Error(`catch-up refused: ${res.error.code}`);
          for (const m of res.messages as LoggedMessage[]) this.store(log, m);
          if (res.messages.length < 200) break;
        }
      } while (log.again);
    } catch {
      // Disconnected mid catch-up: the next connect starts again from `last`.
    } finally {
      log.catchingUp = false;
    }
  }
}
