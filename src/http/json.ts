import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import { DomainError } from '../errors.js';

type Done = (err: Error | null, body?: unknown) => void;

/**
 * JSON body parsing that forgives what ordinary clients send on bodiless calls (API.md "JSON in
 * and out"; routes whose body is optional, e.g. POST /rooms/:id/call, DELETE …):
 * - `content-type: application/json` with an empty body is "no body" (not 400);
 * - a body without any content-type is read as JSON (not 415);
 * - `text/plain` (what `fetch` sets for a string body without headers) is read as JSON too.
 * Bodies are still parsed by Fastify's own secure parser (prototype poisoning refused), so a
 * malformed body is 400 VALIDATION and the 1 MiB limit (413) applies as before. Bearer tokens,
 * not cookies, authorise every call, so accepting text/plain opens no cross-site request path.
 */
export const jsonBodyPlugin = fp(
  async (app) => {
    const parseJson = app.getDefaultJsonParser('error', 'error');
    const lenient = (request: FastifyRequest, body: string, done: Done) => {
      if (body.trim() === '') return done(null, undefined);
      return parseJson(request, body, done);
    };
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, lenient);
    app.removeContentTypeParser('text/plain');
    app.addContentTypeParser('text/plain', { parseAs: 'string' }, lenient);
    // Only reached when no header was sent: any other unknown type stays 415.
    app.addContentTypeParser('*', { parseAs: 'string' }, (request, body, done) => {
      if (request.headers['content-type'] !== undefined) {
        const err = Object.assign(new Error('Unsupported Media Type: send application/json'), { statusCode: 415 });
        return done(err);
      }
      return lenient(request, body as string, done);
    });
  },
  { name: 'engawa-json-body' },
);

/**
 * `preValidation` hook for /api: an empty query value (`?status=&roomId=`, as API.md writes its
 * query templates and as URL builders send unset filters) means "not given", so it gets the
 * default instead of 400 VALIDATION.
 */
export async function dropEmptyQueryValues(request: FastifyRequest): Promise<void> {
  const query = request.query as Record<string, unknown> | undefined;
  if (!query || typeof query !== 'object') return;
  for (const [key, value] of Object.entries(query)) if (value === '') delete query[key];
}

/** Paths (`a.b.0`) of the strings in `value` that contain a NUL character. */
function nulPaths(value: unknown, path: string, out: string[]): void {
  if (typeof value === 'string') {
    if (value.includes('\u0000')) out.push(path);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => nulPaths(v, path ? `${path}.${i}` : String(i), out));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) nulPaths(v, path ? `${path}.${k}` : k, out);
  }
}

/**
 * `preValidation` hook for /api: PostgreSQL text cannot hold NUL, so a NUL in any body or query
 * string would fail in the database (500). Refused here for every route at once: 400 VALIDATION
 * naming the fields, before anything is read or changed.
 */
export async function refuseNulCharacters(request: FastifyRequest): Promise<void> {
  const fields: Array<{ field: string; in: string; message: string }> = [];
  for (const part of ['body', 'querystring'] as const) {
    const paths: string[] = [];
    nulPaths(part === 'body' ? request.body : request.query, '', paths);
    for (const field of paths) fields.push({ field, in: part, message: 'must not contain NUL characters' });
  }
  if (fields.length > 0) throw new DomainError('VALIDATION', 'Invalid input', { fields });
}
