import type { z } from 'zod';
import type { Socket } from 'socket.io';
import { toErrorResponse } from '../http/errors.js';
import type { FastifyBaseLogger } from 'fastify';
import type { Ack } from './events.js';
import { socketReady } from './server.js';

/**
 * One wrapper for every client→server event: parses the payload with the event's zod schema,
 * runs the handler, acks `{ok: true, ...}` or `{ok: false, error}`, and never lets a failure
 * escape into the process.
 */
export function handle<S extends z.ZodType, R extends object>(
  socket: Socket,
  log: FastifyBaseLogger,
  event: string,
  schema: S,
  run: (input: z.output<S>) => Promise<R | void>,
): void {
  socket.on(event, async (payload: unknown, ack?: unknown) => {
    const reply = typeof ack === 'function' ? (ack as Ack<R>) : undefined;
    try {
      await socketReady(socket);
      const input = schema.parse(payload);
      const result = await run(input);
      reply?.({ ok: true, ...(result ?? {}) } as { ok: true } & R);
    } catch (err) {
      const { status, body } = toErrorResponse(err);
      if (status === 503) log.warn({ event, code: body.error.code }, 'socket event refused: database unavailable');
      else if (status >= 500) log.error({ err, event, socketId: socket.id }, 'socket event failed');
      reply?.({ ok: false, error: body.error });
    }
  });
}
