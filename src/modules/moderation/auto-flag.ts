import type { FastifyInstance } from 'fastify';
import { createAutoFlag } from './flags.js';
import { supportResources } from './resources.js';
import type { Screening } from './screen.js';

/**
 * Called by the messages service after a message that matched a `flag` or `crisis` filter was
 * stored and delivered: files the automatic flag (`flag:new` to the room's moderators and staff).
 * For a crisis the flag is urgent, `crisis:alert` goes to online staff and the room's moderators,
 * and `support:resources` to the writer alone; nobody else in the room learns of it.
 * Never throws: the message is already delivered, so a failure here is logged, not returned.
 */
export async function handleScreenedMessage(
  app: FastifyInstance,
  message: { id: string; roomId: string; authorId: string },
  screening: Screening,
): Promise<void> {
  if (screening.action === 'block') return;
  try {
    if (screening.action === 'crisis') {
      // The writer is answered first: help must not wait on the bookkeeping.
      app.realtime.toUser(message.authorId, 'support:resources', { resources: supportResources(app.config) });
    }
    const filed = await createAutoFlag(app, message, screening.action, screening.pattern);
    if (filed && screening.action === 'crisis') {
      app.realtime.toRoomModeratorsAndStaff(message.roomId, 'crisis:alert', { flag: filed.flag, message: filed.message, roomId: message.roomId });
    }
  } catch (err) {
    app.log.error({ err, messageId: message.id, roomId: message.roomId, filterId: screening.filterId }, 'automatic flag failed');
  }
}
