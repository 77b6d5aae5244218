import { expect } from 'vitest';
import type { TestUser } from '../helpers/factories.js';
import type { TestServer } from '../helpers/server.js';

/** Removal through the public route (the user's sockets leave the room at once, on every node). */
export async function removeMember(s: TestServer, roomId: string, userId: string, by: TestUser): Promise<void> {
  const res = await s.app.inject({ method: 'DELETE', url: `/api/rooms/${roomId}/members/${userId}`, headers: by.headers });
  expect(res.statusCode, 'removal by a room moderator').toBe(204);
}

/** A ban through the public route (it also removes the member). */
export async function banMember(s: TestServer, roomId: string, userId: string, by: TestUser): Promise<void> {
  const res = await s.app.inject({ method: 'POST', url: `/api/rooms/${roomId}/bans`, headers: by.headers, payload: { userId, reason: 'test ban' } });
  expect(res.statusCode, 'ban by a room moderator').toBe(201);
}

export const callKeys = ['endedAt', 'expiresAt', 'id', 'provider', 'roomId', 'startedAt', 'startedBy'];
