-- Video calls handed off to a WebRTC service by personal links.
create table calls (
  id uuid primary key default gen_random_uuid(),
  room_id uuid not null references rooms(id) on delete cascade,
  started_by uuid not null references users(id),
  provider text not null default 'jitsi',
  meeting_name text not null unique,
  started_at timestamptz not null default now(),
  expires_at timestamptz not null,
  ended_at timestamptz,
  ended_reason text
);
-- One live call per room.
create unique index calls_one_live_idx on calls (room_id) where ended_at is null;
create index calls_expiry_idx on calls (expires_at) where ended_at is null;
