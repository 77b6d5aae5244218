import { Server, type Socket } from 'socket.io';
import type { FastifyInstance } from 'fastify';
import { toErrorResponse } from '../http/errors.js';
import { isStaff } from '../modules/auth/roles.js';
import { isRoomModerator } from '../modules/rooms/access.js';
import { roomChannel, roomModsChannel, STAFF_CHANNEL, userChannel } from './channels.js';
import type { ClientToServerEvents, InterServerEvents, ServerToClientEvents, SocketData } from './events.js';
import type { EngawaServer } from './realtime.js';

export type EngawaSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
/** Each feature's events.ts exports one of these; it registers that feature's handlers on a socket. */
export type SocketRegistrar = (app: FastifyInstance, socket: EngawaSocket) => void;

export const MAX_SOCKET_FRAME_BYTES = 64 * 1024;

const setupOf = new WeakMap<object, Promise<void>>();
/** Resolves once the socket's channels are settled (immediately for unknown sockets). */
export const socketReady = (socket: object): Promise<void> => setupOf.get(socket) ?? Promise.resolve();

const membershipsOf = (app: FastifyInstance, userId: string) =>
  app.db.selectFrom('room_members').select(['room_id', 'room_role']).where('user_id', '=', userId).execute();

/**
 * Before the client is told it is connected: joins the user's channel, staff channel and every
 * room the database lists, so from its `connect` on the client receives everything of its rooms.
 */
async function joinChannels(app: FastifyInstance, socket: EngawaSocket): Promise<void> {
  const userId = socket.data.userId;
  const user = await app.db.selectFrom('users').select(['role']).where('id', '=', userId).executeTakeFirstOrThrow();
  const channels = [userChannel(userId)];
  if (isStaff(user.role)) channels.push(STAFF_CHANNEL);
  for (const r of await membershipsOf(app, userId)) {
    channels.push(roomChannel(r.room_id));
    if (isRoomModerator(user.role, r.room_role)) channels.push(roomModsChannel(r.room_id));
  }
  await socket.join(channels);
}

/**
 * Once connected: reads the memberships again and leaves any room the user was removed from
 * meanwhile. A removal's `leaveRoom` cannot reach a socket that is still handshaking, so without
 * this a removal racing a connect could leave a stale join; any removal committed later reaches
 * this socket through the adapter as usual.
 */
async function dropStaleRooms(app: FastifyInstance, socket: EngawaSocket): Promise<void> {
  const now = new Set((await membershipsOf(app, socket.data.userId)).map((r) => r.room_id));
  for (const channel of socket.rooms) {
    const roomId = channel.startsWith(roomChannel('')) ? channel.slice(roomChannel('').length) : channel.startsWith(roomModsChannel('')) ? channel.slice(roomModsChannel('').length) : undefined;
    if (roomId !== undefined && !now.has(roomId)) await socket.leave(channel);
  }
}

/** Socket.IO on the same HTTP server, handshake authenticated with the access token from `auth`. */
export function createSocketServer(app: FastifyInstance): EngawaServer {
  const allowed = app.config.ALLOWED_ORIGINS;
  const io: EngawaServer = new Server(app.server, {
    maxHttpBufferSize: MAX_SOCKET_FRAME_BYTES,
    serveClient: false,
    pingInterval: 10_000,
    pingTimeout: 8_000,
    connectionStateRecovery: undefined,
    // Same-origin (no Origin header, or the origin the page came from) always; others only when listed.
    allowRequest: (req, callback) => {
      const origin = req.headers.origin;
      if (!origin || allowed.includes('*') || allowed.includes(origin)) return callback(null, true);
      const host = req.headers.host;
      try {
        if (host && new URL(origin).host === host) return callback(null, true);
      } catch {
        /* malformed origin: refused below */
      }
      callback('origin not allowed', false);
    },
  });

  io.use(async (socket, next) => {
    try {
      const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
      const actor = await app.actorFromToken(typeof token === 'string' ? token : undefined);
      socket.data.userId = actor.id;
    } catch (err) {
      const { body } = toErrorResponse(err);
      const error = new Error(body.error.code === 'LOCKED' ? 'LOCKED' : body.error.code === 'UNAVAILABLE' ? 'UNAVAILABLE' : 'UNAUTHENTICATED');
      return next(error);
    }
    try {
      await joinChannels(app, socket);
      next();
    } catch (err) {
      app.log.warn({ err, socketId: socket.id }, 'socket setup failed');
      next(new Error('UNAVAILABLE'));
    }
  });

  io.on('connection', (socket) => {
    const userId = socket.data.userId;
    // Handlers are registered at once so no early event is lost; `handle` makes each wait for the
    // re-check below.
    const ready = dropStaleRooms(app, socket).catch((err: unknown) => {
      app.log.warn({ err, socketId: socket.id, userId }, 'socket setup failed; disconnecting');
      socket.disconnect(true);
    });
    setupOf.set(socket, ready);
    for (const register of app.socketRegistrars) register(app, socket);
  });
  return io;
}
