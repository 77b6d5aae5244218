import { afterAll } from 'vitest';
import { io as connect, type Socket } from 'socket.io-client';

export type ClientSocket = Socket;

/** A real socket.io-client connection (websocket only), resolved once connected. */
export function connectSocket(url: string, token: string | undefined, opts: { reconnection?: boolean } = {}): Promise<ClientSocket> {
  const socket = connect(url, {
    auth: token === undefined ? {} : { token },
    transports: ['websocket'],
    reconnection: opts.reconnection ?? false,
    forceNew: true,
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

/** Resolves with the first `event` payload that satisfies `match`; rejects after `timeoutMs`. */
export function waitForEvent<T = any>(socket: ClientSocket, event: string, match: (payload: T) => boolean = () => true, timeoutMs = 5_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, listener);
      reject(new Error(`timed out waiting for ${event}`));
    }, timeoutMs);
    const listener = (payload: T) => {
      if (!match(payload)) return;
      clearTimeout(timer);
      socket.off(event, listener);
      resolve(payload);
    };
    socket.on(event, listener);
  });
}

/** Records every event a socket receives (for leak tests). */
export function recordAll(socket: ClientSocket): Array<{ event: string; args: unknown[] }> {
  const seen: Array<{ event: string; args: unknown[] }> = [];
  socket.onAny((event: string, ...args: unknown[]) => seen.push({ event, args }));
  return seen;
}

/**
 * For a test file: a `connect(user)` that opens a socket to the server and closes every socket it
 * opened after the file's tests.
 */
export function useSockets(server: () => { url: string }): (user: { token: string }) => Promise<ClientSocket> {
  const open: ClientSocket[] = [];
  afterAll(() => {
    for (const socket of open) socket.close();
  });
  return async (user) => {
    const socket = await connectSocket(server().url, user.token);
    open.push(socket);
    return socket;
  };
}
