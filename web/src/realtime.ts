/** One Socket.IO connection per signed-in tab; components subscribe to events through `onEvent`. */
import { io, type Socket } from 'socket.io-client';
import { refresh, session } from './api';

type Handler = (payload: any) => void;

let socket: Socket | null = null;
const handlers = new Map<string, Set<Handler>>();
const EVENTS = [
  'message:new', 'message:updated', 'message:deleted', 'typing', 'room:updated', 'member:joined', 'member:left',
  'flag:new', 'crisis:alert', 'support:resources', 'call:started', 'call:ended', 'booking:updated', 'moderation:applied',
];

function dispatch(event: string, payload: unknown) {
  for (const fn of handlers.get(event) ?? []) fn(payload);
}

export function onEvent(event: string, fn: Handler): () => void {
  if (!handlers.has(event)) handlers.set(event, new Set());
  handlers.get(event)!.add(fn);
  return () => void handlers.get(event)!.delete(fn);
}

export function connectSocket() {
  if (socket) return socket;
  let connectedBefore = false;
  // auth as a function: every reconnect presents the newest access token.
  socket = io({ auth: (cb) => cb({ token: session.token }), transports: ['websocket'] });
  for (const e of EVENTS) socket.on(e, (payload: unknown) => dispatch(e, payload));
  socket.on('connect', () => {
    dispatch(connectedBefore ? 'reconnected' : 'connected', undefined);
    connectedBefore = true;
  });
  socket.on('disconnect', (reason) => {
    dispatch('disconnected', undefined);
    // A node shutting down drops its sockets with "io server disconnect", which socket.io does not retry by
    // itself: come back (to another node) after a short, jittered pause. A suspended user's handshake then
    // fails, the refresh fails too, and the app signs out.
    if (reason === 'io server disconnect') setTimeout(() => socket?.connect(), 500 + Math.random() * 1000);
  });
  socket.on('connect_error', async (err) => {
    // The server refused the handshake: the token expired. Refresh and try again; otherwise socket.io retries by itself.
    if (err.message === 'UNAUTHENTICATED' && (await refresh())) socket?.connect();
  });
  return socket;
}

export function disconnectSocket() {
  socket?.disconnect();
  socket = null;
}

export function isConnected() {
  return socket?.connected ?? false;
}

/** Emits with an acknowledgement; rejects after a timeout so callers can retry. */
export async function emitWithAck<T = any>(event: string, payload: unknown, timeoutMs = 10_000): Promise<T> {
  if (!socket) throw new Error('not connected');
  return socket.timeout(timeoutMs).emitWithAck(event, payload);
}

export function emit(event: string, payload: unknown) {
  if (socket?.connected) socket.emit(event, payload);
}
