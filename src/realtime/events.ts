/** Typed event maps for Socket.IO (shared by the server, services and tests). */

export type Ack<T extends object = object> = (response: ({ ok: true } & T) | { ok: false; error: { code: string; message: string; details?: unknown } }) => void;

// Payloads are the contract's objects; each feature module owns their exact TypeScript shapes.
type Payload = Record<string, unknown>;

export interface ServerToClientEvents {
  'message:new': (message: Payload) => void;
  'message:updated': (message: Payload) => void;
  'message:deleted': (payload: { roomId: string; id: string; seq: number }) => void;
  typing: (payload: { roomId: string; user: { id: string; handle: string; displayName: string } }) => void;
  'room:updated': (room: Payload) => void;
  'member:joined': (payload: { roomId: string; user: Payload }) => void;
  'member:left': (payload: { roomId: string; userId: string }) => void;
  'flag:new': (flag: Payload) => void;
  'crisis:alert': (payload: { flag: Payload; message: Payload; roomId: string }) => void;
  'support:resources': (payload: { resources: Array<{ name: string; phone?: string; url?: string; hours?: string }> }) => void;
  'call:started': (call: Payload) => void;
  'call:ended': (payload: { roomId: string; callId: string }) => void;
  'booking:updated': (booking: Payload) => void;
  'booking:reminder': (booking: Payload) => void;
  'moderation:applied': (payload: { roomId?: string; action: string; until?: string; reason: string }) => void;
}

export interface ClientToServerEvents {
  'message:send': (payload: unknown, ack?: Ack) => void;
  typing: (payload: unknown) => void;
  'room:catchup': (payload: unknown, ack?: Ack) => void;
}

export type InterServerEvents = Record<string, never>;

export interface SocketData {
  userId: string;
}

export type ServerEventName = keyof ServerToClientEvents;
export type ServerEventArgs<E extends ServerEventName> = Parameters<ServerToClientEvents[E]>;
