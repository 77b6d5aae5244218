import { z } from 'zod';
import type { CallRow } from '../../db/schema.js';

/** The contract's call object. It never carries a join link: links are personal and made on request. */
export const callSchema = z.object({
  id: z.uuid(),
  roomId: z.uuid(),
  startedBy: z.uuid(),
  provider: z.literal('jitsi'),
  startedAt: z.string(),
  expiresAt: z.string(),
  endedAt: z.string().nullable(),
});
export type Call = z.infer<typeof callSchema>;

export const callWithLinkSchema = z.object({
  call: callSchema,
  /** Personal: made for the caller alone, never stored, never broadcast. */
  joinUrl: z.url(),
});

export const callEndedSchema = z.object({ roomId: z.uuid(), callId: z.uuid() });
export type CallEnded = z.infer<typeof callEndedSchema>;

/** These routes take no input besides the room id: any body or query field is refused (400). */
export const noBodySchema = z.strictObject({}).nullish();
export const noQuerySchema = z.strictObject({});

export const toCall = (row: CallRow): Call => ({
  id: row.id,
  roomId: row.room_id,
  startedBy: row.started_by,
  provider: 'jitsi',
  startedAt: row.started_at.toISOString(),
  expiresAt: row.expires_at.toISOString(),
  endedAt: row.ended_at?.toISOString() ?? null,
});
