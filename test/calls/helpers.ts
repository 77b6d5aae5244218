import type { TestServer } from '../helpers/server.js';

/**
 * What `DELETE /api/rooms/:id/members/:userId` and `POST /api/rooms/:id/bans` do (those routes are
 * another module's and had not landed when these tests were written): drop the membership row (and
 * record the ban), then take the user's sockets out of the room on every node.
 */
export async function removeMember(s: TestServer, roomId: string, userId: string): Promise<void> {
  await s.db.deleteFrom('room_members').where('room_id', '=', roomId).where('user_id', '=', userId).execute();
  await s.app.realtime.leaveRoom(userId, roomId);
}

export async function banMember(s: TestServer, roomId: string, userId: string, bannedBy: string): Promise<void> {
  await s.db.insertInto('room_bans').values({ room_id: roomId, user_id: userId, reason: 'test ban', banned_by: bannedBy }).execute();
  await removeMember(s, roomId, userId);
}

export const callKeys = ['endedAt', 'expiresAt', 'id', 'provider', 'roomId', 'startedAt', 'startedBy'];
