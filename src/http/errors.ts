import fp from 'fastify-plugin';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { ZodError } from 'zod';
import { DomainError, isDbUnavailable, type ErrorBody, type ErrorCode } from '../errors.js';

export interface FieldError {
  field: string;
  in?: string;
  message: string;
}

/** Field list for a zod error: unknown keys are named one by one. */
export function zodFields(err: ZodError, location?: string): FieldError[] {
  return err.issues.flatMap((issue) => {
    const base = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => ({ field: base ? `${base}.${k}` : k, in: location, message: `Unknown field "${k}"` }));
    }
    return [{ field: base || '(root)', in: location, message: issue.message }];
  });
}

export function errorBody(code: ErrorCode, message: string, details?: unknown): ErrorBody {
  return details === undefined ? { error: { code, message } } : { error: { code, message, details } };
}

/** Maps any thrown value to the contract's status and body. 5xx texts never reach the client. */
export function toErrorResponse(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof DomainError) return { status: err.status, body: errorBody(err.code, err.message, err.details) };
  if (err instanceof ZodError) {
    return { status: 400, body: errorBody('VALIDATION', 'Invalid input', { fields: zodFields(err) }) };
  }
  if (hasZodFastifySchemaValidationErrors(err)) {
    const location = (err as FastifyError).validationContext;
    const fields = err.validation.flatMap((v) => {
      const path = v.instancePath.replace(/^\//, '').replace(/\//g, '.');
      const keys = (v.params as { keys?: unknown })?.keys;
      if (Array.isArray(keys)) {
        return keys.map((k) => ({ field: path ? `${path}.${k}` : String(k), in: location, message: `Unknown field "${k}"` }));
      }
      return [{ field: path || '(root)', in: location, message: v.message ?? 'Invalid value' }];
    });
    return { status: 400, body: errorBody('VALIDATION', 'Invalid input', { fields }) };
  }
  if (isDbUnavailable(err)) {
    return { status: 503, body: errorBody('UNAVAILABLE', 'The service is briefly unavailable, please try again') };
  }
  if (!isResponseSerializationError(err)) {
    const fe = err as Partial<FastifyError>;
    const status = fe.statusCode;
    if (status === 413 || fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return { status: 413, body: errorBody('PAYLOAD_TOO_LARGE', 'The request body is too large') };
    }
    if (status === 429) {
      return { status: 429, body: errorBody('RATE_LIMITED', 'Too many requests, please wait a moment') };
    }
    if (status && status >= 400 && status < 500) {
      // Fastify's own client errors: malformed JSON, wrong content type, empty body…
      if (status === 404) return { status, body: errorBody('NOT_FOUND', 'Not found') };
      if (status === 401) return { status, body: errorBody('UNAUTHENTICATED', 'Not signed in') };
      return { status: status === 415 ? 415 : 400, body: errorBody('VALIDATION', fe.message ?? 'Bad request') };
    }
  }
  return { status: 500, body: errorBody('INTERNAL', 'Something went wrong on our side') };
}

/** One error handler and one 404 handler for the whole app, producing `{error: {code, message, details?}}`. */
export const errorsPlugin = fp(
  async (app) => {
    app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
      const { status, body } = toErrorResponse(err);
      // An outage is one warning per request, not a stack trace each: the cause is known and logged by /readyz.
      if (status === 503) request.log.warn({ code: body.error.code }, 'request refused: database unavailable');
      else if (status >= 500) request.log.error({ err }, 'request failed');
      else request.log.info({ code: body.error.code, status }, 'request refused');
      if (status === 429 && !(body.error.details as { retryAfterMs?: number } | undefined)?.retryAfterMs) {
        const after = Number(reply.getHeader('retry-after') ?? 1);
        body.error.details = { retryAfterMs: Math.max(1, after) * 1000 };
      }
      return reply.status(status).send(body);
    });
    app.setNotFoundHandler((request, reply) => {
      return reply.status(404).send(errorBody('NOT_FOUND', 'Not found'));
    });
  },
  { name: 'engawa-errors' },
);
