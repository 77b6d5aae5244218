import type { RoomMemberRow, RoomRow } from '../../db/schema.js';
import { DomainError, locked } from '../../errors.js';
import type { Screening } from '../moderation/screen.js';

/** Whether the member may write in the room now: archived, locked (non-moderators), muted → 423. */
export function assertCanWrite(
  room: Pick<RoomRow, 'archived' | 'locked'>,
  member: Pick<RoomMemberRow, 'muted_until' | 'mute_reason'>,
  isModerator: boolean,
  now = new Date(),
): void {
  if (room.archived) throw locked('This room is archived and read-only');
  if (room.locked && !isModerator) throw locked('This room is locked for now');
  if (member.muted_until && member.muted_until > now) {
    throw locked('You are muted in this room for now', { until: member.muted_until.toISOString(), reason: member.mute_reason });
  }
}

/** `block` filter matches refuse the text (400, naming the filter). */
export function assertNotBlocked(screening: Screening | null): Screening | null {
  if (screening?.action === 'block') {
    throw new DomainError('VALIDATION', 'This message contains words that are not allowed here', {
      filter: { id: screening.filterId, pattern: screening.pattern },
      fields: [{ field: 'body', message: 'contains a blocked word' }],
    });
  }
  return screening;
}

/** 429 with the wait in `details.retryAfterMs` (slow mode, the per-user limit, a busy server). */
export function slowedDown(waitMs: number, message: string): DomainError {
  return new DomainError('RATE_LIMITED', message, { retryAfterMs: Math.max(1, Math.ceil(waitMs)) });
}
