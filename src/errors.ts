export type ErrorCode =
  | 'VALIDATION'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'LOCKED'
  | 'RATE_LIMITED'
  | 'UNAVAILABLE'
  | 'INTERNAL';

export const statusOf: Record<ErrorCode, number> = {
  VALIDATION: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  LOCKED: 423,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
};

/** A rule of the domain was broken. Thrown by services; shaped into the contract's error in one place. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'DomainError';
  }
  get status(): number {
    return statusOf[this.code];
  }
}

export const notFound = (what = 'Not found') => new DomainError('NOT_FOUND', what);
export const forbidden = (why = 'You are not allowed to do this') => new DomainError('FORBIDDEN', why);
export const conflict = (why: string) => new DomainError('CONFLICT', why);
export const locked = (why: string, details?: unknown) => new DomainError('LOCKED', why, details);
export const unauthenticated = (why = 'Not signed in') => new DomainError('UNAUTHENTICATED', why);
export const rateLimited = (retryAfterMs: number) =>
  new DomainError('RATE_LIMITED', 'Too many requests, please wait a moment', { retryAfterMs });

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

/** PostgreSQL SQLSTATE of a driver error, if it is one. */
export function pgCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}
/** unique_violation */
export const isUniqueViolation = (err: unknown) => pgCode(err) === '23505';
/** exclusion_violation */
export const isExclusionViolation = (err: unknown) => pgCode(err) === '23P01';
/**
 * The database is not answering, or answered "not now": connection failures (08), shutting down
 * (57P01-03), out of resources (53, e.g. too many connections), a statement cancelled or timed out
 * (57014), a lock not obtained within lock_timeout (55P03), a system or I/O error (58), a deadlock or
 * serialization failure (40P01, 40001). Each is worth a retry later: 503 UNAVAILABLE, not 500.
 */
export function isDbUnavailable(err: unknown): boolean {
  const code = pgCode(err);
  if (code && /^(08|53|58)|^(57P01|57P02|57P03|57014|55P03|40P01|40001)$/.test(code)) return true;
  const sys = (err as { code?: unknown } | null)?.code;
  if (sys === 'ECONNREFUSED' || sys === 'ECONNRESET' || sys === 'ETIMEDOUT' || sys === 'EPIPE') return true;
  const msg = err instanceof Error ? err.message : '';
  return /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect|not queryable/i.test(msg);
}
