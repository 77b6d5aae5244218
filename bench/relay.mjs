// A bare Socket.IO room relay: the baseline of bench/chat-bench.mjs. No database, no auth, no
// validation beyond "is this socket in that room". Each client names its rooms in the handshake
// (`auth: { rooms: [roomId] }`); `message:send` is relayed to the whole room as `message:new`
// (sender included, as Engawa does) with a message shaped like Engawa's, and acked `{ ok, message }`.
// Same Socket.IO options as src/realtime/server.ts. Loopback only:  PORT=4000 node bench/relay.mjs
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const http = createServer((req, res) => {
  res.writeHead(req.url === '/healthz' ? 200 : 404, { 'content-type': 'application/json' });
  res.end(req.url === '/healthz' ? '{"status":"ok"}' : '{}');
});
const io = new Server(http, { maxHttpBufferSize: 64 * 1024, serveClient: false, pingInterval: 10_000, pingTimeout: 8_000 });
const seqOf = new Map();

io.on('connection', (socket) => {
  const rooms = socket.handshake.auth?.rooms;
  if (Array.isArray(rooms)) socket.join(rooms.filter((r) => typeof r === 'string').map((r) => `room:${r}`));
  const author = { id: randomUUID(), handle: `relay_${socket.id}`, displayName: 'relay member' };
  socket.on('message:send', (input, ack) => {
    if (typeof ack !== 'function') return;
    if (!input || typeof input.roomId !== 'string' || typeof input.body !== 'string' || !socket.rooms.has(`room:${input.roomId}`)) {
      return ack({ ok: false, error: { code: 'NOT_FOUND', message: 'Room not found' } });
    }
    const seq = (seqOf.get(input.roomId) ?? 0) + 1;
    seqOf.set(input.roomId, seq);
    const message = {
      id: randomUUID(),
      roomId: input.roomId,
      seq,
      author,
      body: input.body,
      replyTo: null,
      clientId: input.clientId,
      createdAt: new Date().toISOString(),
      editedAt: null,
      deleted: false,
      hidden: false,
    };
    io.to(`room:${input.roomId}`).emit('message:new', message);
    ack({ ok: true, message });
  });
});

http.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
const stop = () => io.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
