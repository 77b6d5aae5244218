import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** Columns with a database default. */
type Default<T> = ColumnType<T, T | undefined, T>;
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
/** bigint columns come back from pg as strings; we read them as numbers (see database.ts type parser). */
type Int8 = ColumnType<number, number | bigint | undefined, number | bigint>;

export type Role = 'member' | 'family' | 'moderator' | 'staff' | 'admin';
export type RoomRole = 'member' | 'moderator';
export type RoomKind = 'chat' | 'beginners' | 'family' | 'staff';

export interface UsersTable {
  id: Generated<string>;
  handle: string;
  handle_key: string;
  display_name: string;
  role: Role;
  password_hash: string;
  suspended_at: NullableTimestamp;
  suspended_until: NullableTimestamp;
  suspend_reason: Default<string | null>;
  calendar_token_hash: Default<string | null>;
  created_at: Generated<Date>;
}

export interface InvitesTable {
  id: Generated<string>;
  code_hash: string;
  role: Role;
  room_ids: Default<string[]>;
  max_uses: number;
  uses: Default<number>;
  expires_at: Timestamp;
  revoked_at: NullableTimestamp;
  note: Default<string | null>;
  created_by: string;
  created_at: Generated<Date>;
}

export interface RefreshTokensTable {
  id: Generated<string>;
  user_id: string;
  family_id: string;
  token_hash: string;
  expires_at: Timestamp;
  rotated_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
  created_at: Generated<Date>;
}

export interface RoomsTable {
  id: Generated<string>;
  name: string;
  description: Default<string>;
  kind: Default<RoomKind>;
  locked: Default<boolean>;
  slow_mode_seconds: Default<number>;
  members_can_start_calls: Default<boolean>;
  archived: Default<boolean>;
  last_seq: Int8;
  created_by: string | null;
  created_at: Generated<Date>;
}

export interface RoomMembersTable {
  room_id: string;
  user_id: string;
  room_role: Default<RoomRole>;
  joined_at: Generated<Date>;
  last_read_seq: Int8;
  muted_until: NullableTimestamp;
  mute_reason: Default<string | null>;
  last_sent_at: NullableTimestamp;
}

export interface RoomBansTable {
  room_id: string;
  user_id: string;
  reason: string;
  banned_by: string;
  created_at: Generated<Date>;
}

export interface MessagesTable {
  id: Generated<string>;
  room_id: string;
  seq: ColumnType<number, number, number>;
  author_id: string;
  client_id: string;
  body: string | null;
  reply_to: Default<string | null>;
  created_at: Generated<Date>;
  edited_at: NullableTimestamp;
  deleted_at: NullableTimestamp;
  hidden_at: NullableTimestamp;
  hidden_by: Default<string | null>;
  hidden_reason: Default<string | null>;
}

/** Written and read only by @socket.io/postgres-adapter. */
export interface SocketIoAttachmentsTable {
  id: Generated<number>;
  created_at: Generated<Date>;
  payload: Buffer | null;
}

export type FlagReason = 'harassment' | 'spam' | 'self_harm' | 'personal_info' | 'other';
export type FlagStatus = 'open' | 'resolved' | 'dismissed';
export type FlagPriority = 'normal' | 'urgent';

export interface FlagsTable {
  id: Generated<string>;
  message_id: string;
  room_id: string;
  reporter_id: string | null;
  reason: FlagReason;
  note: Default<string | null>;
  status: Default<FlagStatus>;
  priority: Default<FlagPriority>;
  created_at: Generated<Date>;
  resolved_at: NullableTimestamp;
  resolved_by: Default<string | null>;
  resolution: Default<string | null>;
  resolution_note: Default<string | null>;
}

export type FilterAction = 'block' | 'flag' | 'crisis';

export interface WordFiltersTable {
  id: Generated<string>;
  pattern: string;
  pattern_key: string;
  action: FilterAction;
  builtin: Default<boolean>;
  created_by: Default<string | null>;
  created_at: Generated<Date>;
}

export interface AuditLogTable {
  id: Generated<string>;
  actor_id: string | null;
  action: string;
  room_id: Default<string | null>;
  target_user_id: Default<string | null>;
  target_message_id: Default<string | null>;
  target_booking_id: Default<string | null>;
  reason: Default<string | null>;
  created_at: Generated<Date>;
}

export interface CallsTable {
  id: Generated<string>;
  room_id: string;
  started_by: string;
  provider: Default<string>;
  meeting_name: string;
  started_at: Generated<Date>;
  expires_at: Timestamp;
  ended_at: NullableTimestamp;
  ended_reason: Default<CallEndReason | null>;
}

export type CallEndReason = 'ended' | 'expired';

export type SlotKind = 'office' | 'visit';
export type BookingStatus = 'requested' | 'confirmed' | 'declined' | 'cancelled' | 'completed' | 'no_show';

export interface SlotsTable {
  id: Generated<string>;
  staff_id: string;
  starts_at: Timestamp;
  ends_at: Timestamp;
  kinds: SlotKind[];
  location: Default<string>;
  deleted_at: NullableTimestamp;
  created_at: Generated<Date>;
}

export interface BookingsTable {
  id: Generated<string>;
  slot_id: string;
  staff_id: string;
  member_id: string;
  kind: SlotKind;
  status: Default<BookingStatus>;
  starts_at: Timestamp;
  ends_at: Timestamp;
  note: Default<string>;
  visit_address_enc: Default<Buffer | null>;
  address_erased_at: NullableTimestamp;
  cancel_reason: Default<string | null>;
  ended_at: NullableTimestamp;
  reminder_sent_at: NullableTimestamp;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

/** One row: a known value encrypted with DATA_KEY, to detect a wrong key at start. */
export interface DataKeyCheckTable {
  id: Default<number>;
  value: Buffer;
  created_at: Generated<Date>;
}

export interface DB {
  users: UsersTable;
  invites: InvitesTable;
  refresh_tokens: RefreshTokensTable;
  rooms: RoomsTable;
  room_members: RoomMembersTable;
  room_bans: RoomBansTable;
  messages: MessagesTable;
  socket_io_attachments: SocketIoAttachmentsTable;
  flags: FlagsTable;
  word_filters: WordFiltersTable;
  audit_log: AuditLogTable;
  calls: CallsTable;
  slots: SlotsTable;
  bookings: BookingsTable;
  data_key_check: DataKeyCheckTable;
}

export type UserRow = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;
export type RoomRow = Selectable<RoomsTable>;
export type RoomMemberRow = Selectable<RoomMembersTable>;
export type MessageRow = Selectable<MessagesTable>;
export type FlagRow = Selectable<FlagsTable>;
export type CallRow = Selectable<CallsTable>;
export type SlotRow = Selectable<SlotsTable>;
export type BookingRow = Selectable<BookingsTable>;
