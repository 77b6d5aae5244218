import { z } from 'zod';

/**
 * Route schemas every module shares, so a path id or the error body is declared once.
 * (The error body itself is produced by the one handler in errors.ts.)
 */

/** `/:id` of every route: a UUID (anything else is 400 VALIDATION, before any lookup). */
export const idParams = z.strictObject({ id: z.uuid() });

/** The contract's error body: `{error: {code, message, details?}}`. */
export const errorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});

/**
 * The error body per status for a route's `response`, so the OpenAPI document shows it. Every
 * authenticated route can answer these (401 bad token, 423 suspended, 503 database away, …).
 */
export const errorResponses = {
  400: errorSchema,
  401: errorSchema,
  403: errorSchema,
  404: errorSchema,
  409: errorSchema,
  413: errorSchema,
  423: errorSchema,
  429: errorSchema,
  503: errorSchema,
} as const;
