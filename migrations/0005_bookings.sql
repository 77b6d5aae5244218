-- Face-to-face consultations by reservation (来談 / 出張).
create extension if not exists btree_gist;

create table slots (
  id uuid primary key default gen_random_uuid(),
  staff_id uuid not null references users(id),
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  kinds text[] not null check (cardinality(kinds) between 1 and 2 and kinds <@ array['office', 'visit']),
  location text not null default '',
  deleted_at timestamptz,
  created_at timestamptz not null default now(),
  check (ends_at > starts_at),
  -- A staff member's live slots never overlap.
  exclude using gist (staff_id with =, tstzrange(starts_at, ends_at) with &&) where (deleted_at is null)
);

create table bookings (
  id uuid primary key default gen_random_uuid(),
  slot_id uuid not null references slots(id),
  staff_id uuid not null references users(id),
  member_id uuid not null references users(id),
  kind text not null check (kind in ('office', 'visit')),
  status text not null default 'requested'
    check (status in ('requested', 'confirmed', 'declined', 'cancelled', 'completed', 'no_show')),
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  note text not null default '',
  -- AES-256-GCM ciphertext (iv | tag | data), never plaintext; erased after the retention period.
  visit_address_enc bytea,
  address_erased_at timestamptz,
  cancel_reason text,
  ended_at timestamptz,
  reminder_sent_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (kind = 'visit' or visit_address_enc is null),
  -- A staff member's confirmed bookings never overlap.
  exclude using gist (staff_id with =, tstzrange(starts_at, ends_at) with &&) where (status = 'confirmed')
);
-- At most one active booking per slot.
create unique index bookings_one_active_per_slot on bookings (slot_id) where status in ('requested', 'confirmed');
create index bookings_member_idx on bookings (member_id, starts_at);
create index bookings_staff_idx on bookings (staff_id, starts_at);

-- One value encrypted with DATA_KEY at first start. The bookings module decrypts it when it registers,
-- so a server started with another key refuses to start instead of failing on every address later.
create table data_key_check (
  id smallint primary key default 1 check (id = 1),
  value bytea not null,
  created_at timestamptz not null default now()
);
