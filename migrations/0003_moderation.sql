-- Flags, word filters and the append-only audit log.
create table flags (
  id uuid primary key default gen_random_uuid(),
  message_id uuid not null references messages(id) on delete cascade,
  room_id uuid not null references rooms(id) on delete cascade,
  reporter_id uuid references users(id),
  reason text not null check (reason in ('harassment', 'spam', 'self_harm', 'personal_info', 'other')),
  note text,
  status text not null default 'open' check (status in ('open', 'resolved', 'dismissed')),
  priority text not null default 'normal' check (priority in ('normal', 'urgent')),
  created_at timestamptz not null default now(),
  resolved_at timestamptz,
  resolved_by uuid references users(id),
  resolution text,
  resolution_note text
);
-- A reporter has at most one open flag per message; automatic flags (no reporter) likewise one open per message.
create unique index flags_open_reporter_idx on flags (message_id, reporter_id) where status = 'open' and reporter_id is not null;
create unique index flags_open_auto_idx on flags (message_id) where status = 'open' and reporter_id is null;
create index flags_queue_idx on flags (status, priority, created_at);

create table word_filters (
  id uuid primary key default gen_random_uuid(),
  pattern text not null,
  -- NFKC-normalised, lower-cased pattern used for matching.
  pattern_key text not null unique,
  action text not null check (action in ('block', 'flag', 'crisis')),
  builtin boolean not null default false,
  created_by uuid references users(id),
  created_at timestamptz not null default now()
);

create table audit_log (
  id uuid primary key default gen_random_uuid(),
  actor_id uuid references users(id),
  action text not null,
  room_id uuid,
  target_user_id uuid,
  target_message_id uuid,
  target_booking_id uuid,
  reason text,
  created_at timestamptz not null default now()
);
create index audit_log_room_idx on audit_log (room_id, created_at);
create index audit_log_actor_idx on audit_log (actor_id, created_at);

-- Append-only, enforced by the database: no update, no delete, no truncate.
create function audit_log_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'audit_log is append-only' using errcode = '42501';
end $$;
create trigger audit_log_no_update before update or delete on audit_log
  for each row execute function audit_log_append_only();
create trigger audit_log_no_truncate before truncate on audit_log
  for each statement execute function audit_log_append_only();

-- The built-in crisis list (editable by staff): active from the first start.
insert into word_filters (pattern, pattern_key, action, builtin) values
  ('死にたい', '死にたい', 'crisis', true),
  ('しにたい', 'しにたい', 'crisis', true),
  ('消えたい', '消えたい', 'crisis', true),
  ('きえたい', 'きえたい', 'crisis', true),
  ('自殺', '自殺', 'crisis', true),
  ('リスカ', 'リスカ', 'crisis', true),
  ('リストカット', 'リストカット', 'crisis', true),
  ('首を吊', '首を吊', 'crisis', true),
  ('生きていたくない', '生きていたくない', 'crisis', true),
  ('いなくなりたい', 'いなくなりたい', 'crisis', true),
  ('飛び降り', '飛び降り', 'crisis', true),
  ('オーバードーズ', 'オーバードーズ', 'crisis', true),
  ('kill myself', 'kill myself', 'crisis', true),
  ('suicide', 'suicide', 'crisis', true),
  ('want to die', 'want to die', 'crisis', true),
  ('end my life', 'end my life', 'crisis', true),
  ('self harm', 'self harm', 'crisis', true),
  ('self-harm', 'self-harm', 'crisis', true),
  ('cut myself', 'cut myself', 'crisis', true);
