import type { FastifyServerOptions } from 'fastify';
import type { DestinationStream } from 'pino';

/**
 * Errors as log fields without what may carry user data: PostgreSQL puts the failing row or key
 * values in `detail`/`where`, and a query's parameters may hold a message body or an address.
 */
export function safeError(err: unknown): { type: string; message: string; stack: string; [key: string]: unknown } {
  if (!(err instanceof Error)) return { type: typeof err, message: String(err), stack: '' };
  const e = err as Error & Record<string, unknown>;
  const out = { type: e.name, message: e.message, stack: e.stack ?? '' } as { type: string; message: string; stack: string; [key: string]: unknown };
  for (const key of ['code', 'statusCode', 'constraint', 'table', 'column', 'routine', 'severity'] as const) {
    if (e[key] !== undefined) out[key] = e[key];
  }
  if (e.cause instanceof Error) out.cause = safeError(e.cause);
  return out;
}

/**
 * Pino options: request ids on every line; never a token, password, invite code, message body or
 * address. URLs are logged without their query string (the calendar feed token travels there).
 */
export function loggerOptions(level: string, stream?: DestinationStream): FastifyServerOptions['logger'] {
  if (level === 'silent') return false;
  return {
    level,
    ...(stream ? { stream } : {}),
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        '*.password',
        '*.token',
        '*.accessToken',
        '*.refreshToken',
        '*.inviteCode',
        '*.visitAddress',
        '*.body',
      ],
      censor: '[redacted]',
    },
    serializers: {
      err: safeError,
      req: (req: { method: string; url: string; id: string; routeOptions?: { url?: string } }) => ({
        id: req.id,
        method: req.method,
        url: req.url.split('?')[0],
      }),
    },
  };
}
