import type { Server } from 'socket.io';
import { roomChannel, roomModsChannel, userChannel, STAFF_CHANNEL } from './channels.js';
import type { ClientToServerEvents, InterServerEvents, ServerEventArgs, ServerEventName, ServerToClientEvents, SocketData } from './events.js';

export type EngawaServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/**
 * Adapter options for every socket of a user. `except` must be present: the cluster adapters
 * (redis streams, postgres) spread it when publishing to the other nodes, and without it the
 * publish throws inside the adapter and only this node acts.
 */
const allSocketsOf = (userId: string) => ({ rooms: new Set([userChannel(userId)]), except: new Set<string>() });

/**
 * What services use to reach live sockets. Every call goes through the Socket.IO adapter, so it
 * acts on the sockets of every node. Services never touch `io` directly.
 */
export class Realtime {
  constructor(readonly io: EngawaServer) {}

  toRoom<E extends ServerEventName>(roomId: string, event: E, ...args: ServerEventArgs<E>): void {
    this.io.to(roomChannel(roomId)).emit(event, ...args);
  }

  /** To the room's members who are not its moderators (e.g. a redacted copy of a hidden message). */
  toRoomNonModerators<E extends ServerEventName>(roomId: string, event: E, ...args: ServerEventArgs<E>): void {
    this.io.to(roomChannel(roomId)).except(roomModsChannel(roomId)).emit(event, ...args);
  }

  /** To the room, except every socket of one user (e.g. their own `typing`). */
  toRoomExceptUser<E extends ServerEventName>(roomId: string, userId: string, event: E, ...args: ServerEventArgs<E>): void {
    this.io.to(roomChannel(roomId)).except(userChannel(userId)).emit(event, ...args);
  }

  toRoomModerators<E extends ServerEventName>(roomId: string, event: E, ...args: ServerEventArgs<E>): void {
    this.io.to(roomModsChannel(roomId)).emit(event, ...args);
  }

  /** Moderators of the room and every online staff/admin, each socket once. */
  toRoomModeratorsAndStaff<E extends ServerEventName>(roomId: string, event: E, ...args: ServerEventArgs<E>): void {
    this.io.to([roomModsChannel(roomId), STAFF_CHANNEL]).emit(event, ...args);
  }

  toUser<E extends ServerEventName>(userId: string, event: E, ...args: ServerEventArgs<E>): void {
    this.io.to(userChannel(userId)).emit(event, ...args);
  }

  toUsers<E extends ServerEventName>(userIds: string[], event: E, ...args: ServerEventArgs<E>): void {
    if (userIds.length === 0) return;
    this.io.to(userIds.map(userChannel)).emit(event, ...args);
  }

  /**
   * Puts every socket of the user (on every node) into the room, as member or moderator. Resolves
   * once the change is applied here and published to the other nodes (in order with later emits).
   */
  async joinRoom(userId: string, roomId: string, moderator: boolean): Promise<void> {
    const channels = moderator ? [roomChannel(roomId), roomModsChannel(roomId)] : [roomChannel(roomId)];
    await this.io.of('/').adapter.addSockets(allSocketsOf(userId), channels);
    if (!moderator) await this.io.of('/').adapter.delSockets(allSocketsOf(userId), [roomModsChannel(roomId)]);
  }

  /** Takes every socket of the user (on every node) out of the room; resolves once applied here and published. */
  async leaveRoom(userId: string, roomId: string): Promise<void> {
    await this.io.of('/').adapter.delSockets(allSocketsOf(userId), [roomChannel(roomId), roomModsChannel(roomId)]);
  }

  /** Disconnects every socket of the user on every node (suspension). */
  async disconnectUser(userId: string): Promise<void> {
    await this.io.of('/').adapter.disconnectSockets(allSocketsOf(userId), true);
  }
}
