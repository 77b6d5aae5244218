/** Socket.IO room names: the only place they are spelled. */
export const roomChannel = (roomId: string) => `room:${roomId}`;
/** Moderators of a room (they see hidden bodies, flags and crisis alerts of it). */
export const roomModsChannel = (roomId: string) => `room-mods:${roomId}`;
export const userChannel = (userId: string) => `user:${userId}`;
/** Every online staff and admin socket. */
export const STAFF_CHANNEL = 'staff';
