import type { SocketRegistrar } from '../../realtime/server.js';

/** Socket.IO adapter of the messages module: message:send, typing, room:catchup. */
export const messageEvents: SocketRegistrar = (_app, _socket) => {};
