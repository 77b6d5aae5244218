-- Users, invites and refresh tokens.
create table users (
  id uuid primary key default gen_random_uuid(),
  handle text not null,
  -- NFKC-normalised, lower-cased handle: the key for case-insensitive uniqueness.
  handle_key text not null unique,
  display_name text not null,
  role text not null check (role in ('member', 'family', 'moderator', 'staff', 'admin')),
  password_hash text not null,
  suspended_at timestamptz,
  suspended_until timestamptz,
  suspend_reason text,
  -- sha256 of the staff member's calendar feed token.
  calendar_token_hash text unique,
  created_at timestamptz not null default now()
);

create table invites (
  id uuid primary key default gen_random_uuid(),
  code_hash text not null unique,
  role text not null check (role in ('member', 'family', 'moderator', 'staff', 'admin')),
  room_ids uuid[] not null default '{}',
  max_uses integer not null check (max_uses between 1 and 100),
  uses integer not null default 0 check (uses >= 0 and uses <= max_uses),
  expires_at timestamptz not null,
  revoked_at timestamptz,
  note text,
  created_by uuid not null references users(id),
  created_at timestamptz not null default now()
);

create table refresh_tokens (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users(id) on delete cascade,
  family_id uuid not null,
  token_hash text not null unique,
  expires_at timestamptz not null,
  rotated_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz not null default now()
);
create index refresh_tokens_family_idx on refresh_tokens (family_id);
create index refresh_tokens_user_idx on refresh_tokens (user_id);
