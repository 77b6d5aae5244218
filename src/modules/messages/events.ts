import type { FastifyInstance } from 'fastify';
import { loadActor } from '../auth/actor.js';
import { handle } from '../../realtime/handler.js';
import type { SocketRegistrar } from '../../realtime/server.js';
import { MAX_PAGE, catchupEvent, sendEvent, typingEvent } from './schemas.js';
import { listMessages, sendMessage, typingAllowed } from './service.js';

/** At most one `typing` relay per user and room in this window (per node). */
export const TYPING_THROTTLE_MS = 2_000;
const typingSeen = new WeakMap<FastifyInstance, Map<string, number>>();

function typingThrottled(app: FastifyInstance, userId: string, roomId: string): boolean {
  let seen = typingSeen.get(app);
  if (!seen) typingSeen.set(app, (seen = new Map()));
  const now = Date.now();
  if (seen.size > 10_000) for (const [k, t] of seen) if (now - t >= TYPING_THROTTLE_MS) seen.delete(k);
  const key = `${userId}:${roomId}`;
  const last = seen.get(key);
  if (last !== undefined && now - last < TYPING_THROTTLE_MS) return true;
  seen.set(key, now);
  return false;
}

/**
 * Socket.IO adapter of the messages module: message:send, typing, room:catchup. Each event loads
 * the user from the database (a suspended user gets LOCKED) — message:send inside its own locked
 * select, the others first — and calls the same service functions as HTTP.
 */
export const messageEvents: SocketRegistrar = (app, socket) => {
  const actor = () => loadActor(app.db, socket.data.userId);

  handle(socket, app.log, 'message:send', sendEvent, async (input) => {
    // The user row (gone 401, suspended 423) is read inside the send's own statement.
    const { message } = await sendMessage(app, socket.data.userId, input);
    return { message };
  });

  handle(socket, app.log, 'room:catchup', catchupEvent, async (input) => {
    const messages = await listMessages(app.db, await actor(), input.roomId, { after: input.afterSeq, limit: MAX_PAGE });
    return { messages };
  });

  handle(socket, app.log, 'typing', typingEvent, async (input) => {
    if (typingThrottled(app, socket.data.userId, input.roomId)) return;
    const user = await typingAllowed(app.db, await actor(), input.roomId);
    app.realtime.toRoomExceptUser(input.roomId, socket.data.userId, 'typing', { roomId: input.roomId, user });
  });
};
