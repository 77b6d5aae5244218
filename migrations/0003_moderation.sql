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
  created_at timestamptz not null default clock_timestamp()
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
-- pattern_key = matchKey(pattern) in src/modules/moderation/normalize.ts: NFKC, lower case,
-- katakana folded to hiragana, white space collapsed (so ｼﾆﾀｲ / シニタイ match しにたい).
insert into word_filters (pattern, pattern_key, action, builtin) values
  ('死にたい', '死にたい', 'crisis', true),
  ('しにたい', 'しにたい', 'crisis', true),
  ('タヒにたい', 'たひにたい', 'crisis', true),
  ('消えたい', '消えたい', 'crisis', true),
  ('きえたい', 'きえたい', 'crisis', true),
  ('消えてしまいたい', '消えてしまいたい', 'crisis', true),
  ('自殺', '自殺', 'crisis', true),
  ('じさつ', 'じさつ', 'crisis', true),
  ('自死', '自死', 'crisis', true),
  ('リスカ', 'りすか', 'crisis', true),
  ('リストカット', 'りすとかっと', 'crisis', true),
  ('自傷', '自傷', 'crisis', true),
  ('首を吊', '首を吊', 'crisis', true),
  ('首吊り', '首吊り', 'crisis', true),
  ('首つり', '首つり', 'crisis', true),
  ('飛び降り', '飛び降り', 'crisis', true),
  ('練炭', '練炭', 'crisis', true),
  ('遺書', '遺書', 'crisis', true),
  ('オーバードーズ', 'おーばーどーず', 'crisis', true),
  ('生きていたくない', '生きていたくない', 'crisis', true),
  ('生きてる意味がない', '生きてる意味がない', 'crisis', true),
  ('生きている意味がない', '生きている意味がない', 'crisis', true),
  ('いなくなりたい', 'いなくなりたい', 'crisis', true),
  ('kill myself', 'kill myself', 'crisis', true),
  ('killing myself', 'killing myself', 'crisis', true),
  ('suicide', 'suicide', 'crisis', true),
  ('suicidal', 'suicidal', 'crisis', true),
  ('want to die', 'want to die', 'crisis', true),
  ('wanna die', 'wanna die', 'crisis', true),
  ('end my life', 'end my life', 'crisis', true),
  ('end it all', 'end it all', 'crisis', true),
  ('no reason to live', 'no reason to live', 'crisis', true),
  ('self harm', 'self harm', 'crisis', true),
  ('self-harm', 'self-harm', 'crisis', true),
  ('cut myself', 'cut myself', 'crisis', true),
  ('overdose', 'overdose', 'crisis', true);
