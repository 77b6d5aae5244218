-- Video calls handed off to a WebRTC service by personal links.
-- The meeting name is random (>= 128 bits) and names neither the room nor its members; join links
-- (with their tokens) are never stored: each is made for one member on request.
create table calls (
  id uuid primary key default gen_random_uuid(),
  room_id uuid not null references rooms(id) on delete cascade,
  started_by uuid not null references users(id),
  provider text not null default 'jitsi' check (provider in ('jitsi')),
  meeting_name text not null unique,
  started_at timestamptz not null default now(),
  expires_at timestamptz not null,
  ended_at timestamptz,
  ended_reason text check (ended_reason in ('ended', 'expired')),
  check (expires_at > started_at),
  check ((ended_at is null) = (ended_reason is null))
);
-- One unended call per room, also under concurrent starts (the loser gets 23505 and reads the winner).
create unique index calls_one_live_idx on calls (room_id) where ended_at is null;
-- The expiry sweep: unended calls by expiry.
create index calls_expiry_idx on calls (expires_at) where ended_at is null;
