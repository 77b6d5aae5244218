export type Role = 'member' | 'family' | 'moderator' | 'staff' | 'admin';
export interface User { id: string; handle: string; displayName: string; role: Role; createdAt: string }
export interface Room {
  id: string; name: string; description: string | null; kind: 'chat' | 'beginners' | 'family' | 'staff';
  locked: boolean; slowModeSeconds: number; membersCanStartCalls: boolean; archived: boolean;
  lastSeq: number; createdAt: string; myRole: 'member' | 'moderator'; unread: number;
}
export interface Message {
  id: string; roomId: string; seq: number; author: { id: string; handle: string; displayName: string };
  body: string | null; replyTo: string | null; clientId: string | null; createdAt: string;
  editedAt: string | null; deleted: boolean; hidden: boolean;
}
export interface Member { user: User; roomRole: 'member' | 'moderator'; joinedAt: string; mutedUntil: string | null }
export type FlagReason = 'harassment' | 'spam' | 'self_harm' | 'personal_info' | 'other';
export interface Flag {
  id: string; messageId: string; roomId: string; reporter: { id: string; handle: string } | null;
  reason: FlagReason; note: string | null; status: 'open' | 'resolved' | 'dismissed'; priority: 'normal' | 'urgent';
  createdAt: string; resolvedAt: string | null; resolvedBy: unknown; resolution: string | null; message?: Message | null;
}
export interface Call { id: string; roomId: string; startedBy: unknown; provider: string; startedAt: string; expiresAt: string; endedAt: string | null }
export interface Slot { id: string; staff: { id: string; displayName: string }; startsAt: string; endsAt: string; kinds: ('office' | 'visit')[]; location: string | null; booked: boolean }
export type BookingStatus = 'requested' | 'confirmed' | 'declined' | 'cancelled' | 'completed' | 'no_show';
export interface Booking {
  id: string; slotId: string; kind: 'office' | 'visit'; status: BookingStatus; startsAt: string; endsAt: string;
  staff: { id: string; displayName: string }; member: { id: string; handle: string; displayName: string };
  note: string | null; location: string | null; visitAddress?: string | null; cancelReason: string | null; createdAt: string; updatedAt: string;
}
export interface Invite { id: string; code?: string; role: Role; roomIds: string[]; maxUses: number; uses: number; expiresAt: string; createdAt: string; revokedAt?: string | null; note?: string | null }
export interface AuditEntry { id: string; actor: any; action: string; roomId: string | null; targetUserId: string | null; targetMessageId: string | null; reason: string | null; createdAt: string }
export interface SupportResource { name: string; phone?: string; url?: string; hours?: string }
