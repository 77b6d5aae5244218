import { z } from 'zod';
import { publicUserSchema } from '../auth/user.js';

export const MAX_BODY_CHARS = 4000;
export const MAX_PAGE = 200;

/** 1..4000 characters (code points) after trimming; no NUL characters. */
export const bodySchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .refine((s) => [...s].length <= MAX_BODY_CHARS, `must be at most ${MAX_BODY_CHARS} characters`)
  .refine((s) => !s.includes('\u0000'), 'must not contain NUL characters');

const seqSchema = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const messageSchema = z.object({
  id: z.uuid(),
  roomId: z.uuid(),
  seq: z.number().int(),
  author: publicUserSchema,
  body: z.string().nullable(),
  replyTo: z.uuid().nullable(),
  clientId: z.uuid(),
  createdAt: z.string(),
  editedAt: z.string().nullable(),
  deleted: z.boolean(),
  hidden: z.boolean(),
});
export type Message = z.infer<typeof messageSchema>;

const sendShape = { body: bodySchema, clientId: z.uuid(), replyTo: z.uuid().optional() };
/** POST /rooms/:id/messages */
export const sendBody = z.strictObject(sendShape);
/** Socket `message:send`: the same fields plus the room. */
export const sendEvent = z.strictObject({ roomId: z.uuid(), ...sendShape });
export type SendInput = z.infer<typeof sendEvent>;

export const editBody = z.strictObject({ body: bodySchema });

export const historyQuery = z.strictObject({
  after: seqSchema.optional(),
  before: seqSchema.optional(),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(50),
});
export type HistoryQuery = z.infer<typeof historyQuery>;

/** Socket `room:catchup`. */
export const catchupEvent = z.strictObject({ roomId: z.uuid(), afterSeq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) });
/** Socket `typing`. */
export const typingEvent = z.strictObject({ roomId: z.uuid() });

export const messagesResponse = z.object({ messages: z.array(messageSchema) });
