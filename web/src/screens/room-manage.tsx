import { useState } from 'preact/hooks';
import { api, session } from '../api';
import { fmtDateTime, t } from '../i18n';
import { Status } from '../ui/notices';
import { errText } from '../ui/errors';
import type { Member, Room, User } from '../types';
import { FormActions } from '../ui/form-actions';

const SLOW = [0, 10, 30, 60, 300, 900];
const MUTE = [10, 60, 1440, 10080];

/** Moderator side panel: room settings, the member list with mute / remove / ban, adding people. */
export function RoomManage(props: { room: Room; members: Member[]; onRoom: (r: Room) => void; onMembers: () => void }) {
  const { room } = props;
  const [locked, setLocked] = useState(room.locked);
  const [slow, setSlow] = useState(room.slowModeSeconds);
  const [calls, setCalls] = useState(room.membersCanStartCalls);
  const [status, setStatus] = useState<{ text: string; kind: 'ok' | 'error' } | null>(null);

  const run = async (fn: () => Promise<unknown>) => {
    setStatus(null);
    try {
      await fn();
      setStatus({ text: t('saved'), kind: 'ok' });
      return true;
    } catch (err) {
      setStatus({ text: errText(err), kind: 'error' });
      return false;
    }
  };

  return (
    <aside id="room-manage" class="side card" aria-labelledby="manage-title">
      <h2 id="manage-title">{t('settings')}</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void run(async () => props.onRoom(await api<Room>('PATCH', `/api/rooms/${room.id}`, { locked, slowModeSeconds: slow, membersCanStartCalls: calls })));
        }}
      >
        <div class="check">
          <input id="set-locked" type="checkbox" checked={locked} onChange={(e) => setLocked(e.currentTarget.checked)} />
          <label for="set-locked">{t('lockRoom')}</label>
        </div>
        <div class="field">
          <label for="set-slow">{t('slowMode')}</label>
          <select id="set-slow" value={String(slow)} onChange={(e) => setSlow(Number(e.currentTarget.value))}>
            {SLOW.map((s) => (
              <option key={s} value={String(s)}>
                {s === 0 ? t('slowOff') : t('seconds', { n: s })}
              </option>
            ))}
          </select>
        </div>
        <div class="check">
          <input id="set-calls" type="checkbox" checked={calls} onChange={(e) => setCalls(e.currentTarget.checked)} />
          <label for="set-calls">{t('callsAllowed')}</label>
        </div>
        <button type="submit" class="primary small">
          {t('save')}
        </button>
      </form>
      {status && <Status kind={status.kind} text={status.text} />}

      <h2>{t('members')}</h2>
      <ul class="member-list">
        {props.members.map((m) => (
          <MemberRow key={m.user.id} roomId={room.id} member={m} run={run} onChanged={props.onMembers} />
        ))}
      </ul>
      <AddMember roomId={room.id} existing={props.members} run={run} onChanged={props.onMembers} />
    </aside>
  );
}

function MemberRow(props: { roomId: string; member: Member; run: (fn: () => Promise<unknown>) => Promise<boolean>; onChanged: () => void }) {
  const { member: m, roomId } = props;
  const [mode, setMode] = useState<'mute' | 'ban' | null>(null);
  const [minutes, setMinutes] = useState(60);
  const [reason, setReason] = useState('');
  const self = m.user.id === session.user?.id;
  const muted = m.mutedUntil && new Date(m.mutedUntil).getTime() > Date.now();
  const act = async (fn: () => Promise<unknown>) => {
    if (await props.run(fn)) {
      setMode(null);
      setReason('');
      props.onChanged();
    }
  };
  const id = `m-${m.user.id}`;
  return (
    <li class="member">
      <p>
        <strong>{m.user.displayName}</strong> <span class="hint">@{m.user.handle}</span>
        {m.roomRole === 'moderator' && <span class="tag">{t('moderator')}</span>}
        {muted && <span class="tag">{t('mutedUntil', { time: fmtDateTime(m.mutedUntil!) })}</span>}
      </p>
      {!self && m.roomRole !== 'moderator' && (
        <div class="row wrap">
          {muted ? (
            <button type="button" class="quiet small" onClick={() => void act(() => api('DELETE', `/api/rooms/${roomId}/mutes/${m.user.id}`))}>
              {t('unmute')}
            </button>
          ) : (
            <button type="button" class="quiet small" aria-expanded={mode === 'mute'} onClick={() => setMode(mode === 'mute' ? null : 'mute')}>
              {t('mute')}
            </button>
          )}
          <button type="button" class="quiet small" onClick={() => void act(() => api('DELETE', `/api/rooms/${roomId}/members/${m.user.id}`))}>
            {t('remove')}
          </button>
          <button type="button" class="quiet small" aria-expanded={mode === 'ban'} onClick={() => setMode(mode === 'ban' ? null : 'ban')}>
            {t('ban')}
          </button>
        </div>
      )}
      {mode && (
        <form
          class="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            void act(() =>
              mode === 'mute'
                ? api('POST', `/api/rooms/${roomId}/mutes`, { userId: m.user.id, minutes, reason: reason.trim() })
                : api('POST', `/api/rooms/${roomId}/bans`, { userId: m.user.id, reason: reason.trim() }),
            );
          }}
        >
          {mode === 'mute' && (
            <div class="field">
              <label for={`${id}-min`}>{t('muteMinutes')}</label>
              <select id={`${id}-min`} value={String(minutes)} onChange={(e) => setMinutes(Number(e.currentTarget.value))}>
                {MUTE.map((n) => (
                  <option key={n} value={String(n)}>
                    {n < 60 ? t('minutes', { n }) : n < 1440 ? t('hours', { n: n / 60 }) : t('days', { n: n / 1440 })}
                  </option>
                ))}
              </select>
            </div>
          )}
          <div class="field">
            <label for={`${id}-reason`}>{t('reasonLabel')}</label>
            <input id={`${id}-reason`} required maxLength={500} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
          </div>
          <FormActions submit={mode === 'mute' ? t('mute') : t('ban')} submitClass={mode === 'ban' ? 'danger small' : 'primary small'} small onCancel={() => setMode(null)} />
        </form>
      )}
    </li>
  );
}

function AddMember(props: { roomId: string; existing: Member[]; run: (fn: () => Promise<unknown>) => Promise<boolean>; onChanged: () => void }) {
  const [query, setQuery] = useState('');
  const [found, setFound] = useState<User[]>([]);
  const inRoom = new Set(props.existing.map((m) => m.user.id));
  return (
    <details class="fold">
      <summary>{t('addMember')}</summary>
      <form
        class="row"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          void api<{ users: User[] }>('GET', `/api/users?query=${encodeURIComponent(query.trim())}`).then((r) => setFound(r.users)).catch(() => setFound([]));
        }}
      >
        <label for="user-search" class="visually-hidden">
          {t('searchUsers')}
        </label>
        <input id="user-search" placeholder={t('searchUsers')} value={query} onInput={(e) => setQuery(e.currentTarget.value)} />
        <button type="submit" class="quiet small">
          {t('searchUsers')}
        </button>
      </form>
      <ul class="member-list">
        {found
          .filter((u) => !inRoom.has(u.id))
          .map((u) => (
            <li key={u.id} class="row">
              <span>
                {u.displayName} <span class="hint">@{u.handle}</span>
              </span>
              <button
                type="button"
                class="quiet small"
                onClick={() => void props.run(() => api('POST', `/api/rooms/${props.roomId}/members`, { userId: u.id })).then((ok) => ok && props.onChanged())}
              >
                {t('add')}
              </button>
            </li>
          ))}
      </ul>
    </details>
  );
}
