-- Rooms, membership and the per-room gap-free message log.
create table rooms (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  description text not null default '',
  kind text not null default 'chat' check (kind in ('chat', 'beginners', 'family', 'staff')),
  locked boolean not null default false,
  slow_mode_seconds integer not null default 0 check (slow_mode_seconds between 0 and 3600),
  members_can_start_calls boolean not null default false,
  archived boolean not null default false,
  -- Taken with `update rooms set last_seq = last_seq + 1 ... returning` in the insert's transaction.
  last_seq bigint not null default 0,
  created_by uuid references users(id),
  created_at timestamptz not null default now()
);

create table room_members (
  room_id uuid not null references rooms(id) on delete cascade,
  user_id uuid not null references users(id) on delete cascade,
  room_role text not null default 'member' check (room_role in ('member', 'moderator')),
  joined_at timestamptz not null default now(),
  last_read_seq bigint not null default 0,
  muted_until timestamptz,
  mute_reason text,
  last_sent_at timestamptz,
  primary key (room_id, user_id)
);
create index room_members_user_idx on room_members (user_id);

create table room_bans (
  room_id uuid not null references rooms(id) on delete cascade,
  user_id uuid not null references users(id) on delete cascade,
  reason text not null,
  banned_by uuid not null references users(id),
  created_at timestamptz not null default now(),
  primary key (room_id, user_id)
);

create table messages (
  id uuid primary key default gen_random_uuid(),
  room_id uuid not null references rooms(id) on delete cascade,
  seq bigint not null,
  author_id uuid not null references users(id),
  client_id uuid not null,
  body text,
  reply_to uuid references messages(id),
  created_at timestamptz not null default now(),
  edited_at timestamptz,
  deleted_at timestamptz,
  hidden_at timestamptz,
  hidden_by uuid references users(id),
  hidden_reason text,
  unique (room_id, seq),
  unique (author_id, client_id)
);
-- History and catch-up read by (room_id, seq) through the unique index above.
-- The per-user message rate limit counts a user's recent messages (across every node).
create index messages_author_recent_idx on messages (author_id, created_at);
create index messages_reply_to_idx on messages (reply_to) where reply_to is not null;

-- Used by @socket.io/postgres-adapter (SOCKET_ADAPTER=postgres) for packets over the NOTIFY size limit.
create table socket_io_attachments (
  id bigserial unique,
  created_at timestamptz default now(),
  payload bytea
);
