import { useEffect, useState } from 'preact/hooks';
import { api, session } from '../api';
import { t } from '../i18n';
import { onEvent } from '../realtime';
import { Link, navigate } from '../router';
import { Status } from '../ui/notices';
import { errText } from '../ui/errors';
import type { Message, Room } from '../types';

export function RoomsScreen() {
  const [rooms, setRooms] = useState<Room[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () =>
    api<{ rooms: Room[] }>('GET', '/api/rooms')
      .then((r) => setRooms(r.rooms))
      .catch((e) => setError(errText(e)));

  useEffect(() => {
    void load();
    const offs = [
      onEvent('message:new', (m: Message) => {
        if (m.author.id === session.user?.id) return;
        setRooms((rs) => rs?.map((r) => (r.id === m.roomId && m.seq > r.lastSeq ? { ...r, lastSeq: m.seq, unread: r.unread + 1 } : r)) ?? rs);
      }),
      onEvent('room:updated', (room: Room) => setRooms((rs) => rs?.map((r) => (r.id === room.id ? { ...r, ...room, unread: r.unread } : r)) ?? rs)),
      onEvent('member:joined', () => void load()),
      onEvent('member:left', () => void load()),
      onEvent('reconnected', () => void load()),
    ];
    return () => offs.forEach((off) => off());
  }, []);

  const canCreate = ['moderator', 'staff', 'admin'].includes(session.user?.role ?? '');
  const visible = rooms?.filter((r) => !r.archived);

  return (
    <section>
      <h1>{t('roomsTitle')}</h1>
      {error && <Status kind="error" text={error} />}
      {!rooms && !error && <p>{t('loading')}</p>}
      {visible && visible.length === 0 && <p class="empty">{t('roomsEmpty')}</p>}
      {visible && visible.length > 0 && (
        <ul class="room-list">
          {visible.map((r) => (
            <li key={r.id}>
              <Link href={`/rooms/${r.id}`} class="room-card">
                <span class="room-name">{r.name}</span>
                {r.description && <span class="room-desc">{r.description}</span>}
                <span class="room-meta">
                  <span class="tag">{t(`kind_${r.kind}` as 'kind_chat')}</span>
                  {r.locked && <span class="tag">{t('locked')}</span>}
                  {r.unread > 0 && (
                    <span class="unread" aria-label={t('unreadLabel', { n: r.unread })}>
                      {t('unread', { n: r.unread })}
                    </span>
                  )}
                </span>
              </Link>
            </li>
          ))}
        </ul>
      )}
      {canCreate && <CreateRoom />}
    </section>
  );
}

function CreateRoom() {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [kind, setKind] = useState('chat');
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const room = await api<Room>('POST', '/api/rooms', { name: name.trim(), kind, ...(description.trim() ? { description: description.trim() } : {}) });
      navigate(`/rooms/${room.id}`);
    } catch (err) {
      setError(errText(err));
    }
  };
  return (
    <details class="card fold">
      <summary>{t('createRoom')}</summary>
      <form onSubmit={submit}>
        <div class="field">
          <label for="room-name">{t('roomName')}</label>
          <input id="room-name" required maxLength={80} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="room-desc">
            {t('roomDescription')} <span class="hint">{t('optional')}</span>
          </label>
          <textarea id="room-desc" maxLength={500} rows={2} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="room-kind">{t('roomKind')}</label>
          <select id="room-kind" value={kind} onChange={(e) => setKind(e.currentTarget.value)}>
            {(['chat', 'beginners', 'family', 'staff'] as const).map((k) => (
              <option key={k} value={k}>
                {t(`kind_${k}`)}
              </option>
            ))}
          </select>
        </div>
        {error && <Status kind="error" text={error} />}
        <button type="submit" class="primary">
          {t('create')}
        </button>
      </form>
    </details>
  );
}
