import type { FastifyInstance } from 'fastify';
import type { Screening } from './screen.js';

/**
 * Called by the messages service after a message that matched a `flag` or `crisis` filter was
 * stored and delivered: files the automatic flag, alerts staff and the room's moderators, and
 * (crisis) sends `support:resources` to the author alone. Implemented by the moderation module.
 */
export async function handleScreenedMessage(
  _app: FastifyInstance,
  _message: { id: string; roomId: string; authorId: string },
  _screening: Screening,
): Promise<void> {}
