import type { FastifyInstance } from 'fastify';
import type { EngawaSocket } from './realtime/server.js';

/** Answer to a socket event that arrives while this node is shutting down: the client retries elsewhere. */
export const RESTARTING = { ok: false, error: { code: 'UNAVAILABLE', message: 'This server is restarting. Please try again.' } } as const;

export interface SocketDrain {
  /** Events with an ack that have started and not yet been answered. */
  readonly inFlight: number;
  /**
   * Stops taking new socket events (they are answered UNAVAILABLE, so a client retries with the same
   * clientId on another node) and waits until every started event has acked, or `timeoutMs` passed.
   */
  drain(timeoutMs: number): Promise<boolean>;
}

/**
 * Counts socket events in flight on this node so shutdown can let their acks go out before the
 * sockets are closed. Registered as a socket registrar: a middleware on every new socket.
 */
export function trackSocketEvents(app: FastifyInstance): SocketDrain {
  let inFlight = 0;
  let draining = false;
  let idle: (() => void) | undefined;

  app.socketRegistrars.push((_app, socket: EngawaSocket) => {
    socket.use((packet, next) => {
      const last = packet.length - 1;
      const ack = packet[last];
      if (draining) {
        if (typeof ack === 'function') ack(RESTARTING);
        return; // not passed on: nothing starts once draining began
      }
      if (typeof ack !== 'function') return next();
      inFlight++;
      let answered = false;
      packet[last] = (...args: unknown[]) => {
        if (!answered) {
          answered = true;
          inFlight--;
          if (inFlight === 0) idle?.();
        }
        ack(...args);
      };
      next();
    });
  });

  return {
    get inFlight() {
      return inFlight;
    },
    drain(timeoutMs) {
      draining = true;
      if (inFlight === 0) return Promise.resolve(true);
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), timeoutMs);
        idle = () => {
          clearTimeout(timer);
          resolve(true);
        };
      });
    },
  };
}
