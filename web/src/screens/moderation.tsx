import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { fmtDateTime, fmtTime, t } from '../i18n';
import { onEvent } from '../realtime';
import { Link } from '../router';
import { Status } from '../ui/notices';
import { errText } from '../ui/errors';
import type { Flag, Message, Room } from '../types';

/** The flag queue: urgent first (the server's order), each with the message, its context and the actions. */
export function ModerationScreen() {
  const [flags, setFlags] = useState<Flag[] | null>(null);
  const [rooms, setRooms] = useState<Map<string, Room>>(new Map());
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);

  const load = () =>
    api<{ flags: Flag[] }>('GET', '/api/flags?status=open')
      .then((r) => setFlags(r.flags))
      .catch((e) => setError(errText(e)));

  useEffect(() => {
    void load();
    void api<{ rooms: Room[] }>('GET', '/api/rooms').then((r) => setRooms(new Map(r.rooms.map((x) => [x.id, x])))).catch(() => undefined);
    const offs = [onEvent('flag:new', () => void load()), onEvent('crisis:alert', () => void load()), onEvent('reconnected', () => void load())];
    return () => offs.forEach((off) => off());
  }, []);

  const resolve = async (flag: Flag, action: 'dismiss' | 'hide_message' | 'delete_message') => {
    setError(null);
    try {
      await api('POST', `/api/flags/${flag.id}/resolve`, { action });
      setDone(t('resolved'));
      setFlags((cur) => cur?.filter((f) => f.id !== flag.id && !(action !== 'dismiss' && f.messageId === flag.messageId)) ?? cur);
      void load();
    } catch (e) {
      setError(errText(e));
    }
  };

  return (
    <section>
      <h1>{t('modTitle')}</h1>
      {error && <Status kind="error" text={error} />}
      {done && <Status text={done} />}
      {!flags && !error && <p>{t('loading')}</p>}
      {flags && flags.length === 0 && <p class="empty">{t('modEmpty')}</p>}
      <ul class="flag-list">
        {flags?.map((f) => (
          <li key={f.id} class={`card flag ${f.priority}`} data-testid="flag">
            <p class="row wrap">
              {f.priority === 'urgent' && <span class="tag urgent">{t('urgent')}</span>}
              <span class="tag">{t(`reason_${f.reason}`)}</span>
              <span class="hint">{fmtDateTime(f.createdAt)}</span>
            </p>
            <p class="hint">
              {f.reporter ? t('reportedBy', { name: f.reporter.handle }) : t('automatic')}
              {' · '}
              {rooms.get(f.roomId) ? <Link href={`/rooms/${f.roomId}`}>{t('inRoom', { name: rooms.get(f.roomId)!.name })}</Link> : null}
            </p>
            {f.note && <p>{t('note', { note: f.note })}</p>}
            {f.message && (
              <blockquote class="flagged">
                <p class="meta">
                  <span class="author">{f.message.author.displayName}</span> <time dateTime={f.message.createdAt}>{fmtDateTime(f.message.createdAt)}</time>
                </p>
                <p class="body">{f.message.body ?? (f.message.deleted ? t('deletedMessage') : t('hiddenMessage'))}</p>
              </blockquote>
            )}
            {f.message && <Context message={f.message} />}
            <div class="row wrap">
              <button type="button" class="quiet" onClick={() => void resolve(f, 'dismiss')}>
                {t('dismiss')}
              </button>
              <button type="button" class="primary" onClick={() => void resolve(f, 'hide_message')}>
                {t('hideMessage')}
              </button>
              <button type="button" class="danger" onClick={() => void resolve(f, 'delete_message')}>
                {t('deleteMessage')}
              </button>
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** The messages just before and after the flagged one (when the moderator may read the room). */
function Context(props: { message: Message }) {
  const [around, setAround] = useState<Message[] | null>(null);
  const [open, setOpen] = useState(false);
  const m = props.message;
  const toggle = async () => {
    setOpen(!open);
    if (around) return;
    try {
      const [before, after] = await Promise.all([
        api<{ messages: Message[] }>('GET', `/api/rooms/${m.roomId}/messages?before=${m.seq}&limit=3`),
        api<{ messages: Message[] }>('GET', `/api/rooms/${m.roomId}/messages?after=${m.seq}&limit=3`),
      ]);
      setAround([...before.messages, m, ...after.messages]);
    } catch {
      setAround([]);
    }
  };
  return (
    <div class="context">
      <button type="button" class="quiet small" aria-expanded={open} onClick={() => void toggle()}>
        {t('showContext')}
      </button>
      {open && around && (
        <ol class="context-list">
          {around.map((x) => (
            <li key={x.seq} class={x.seq === m.seq ? 'focus' : ''}>
              <span class="author">{x.author.displayName}</span> <span class="hint">{fmtTime(x.createdAt)}</span>
              <p class="body">{x.body ?? (x.deleted ? t('deletedMessage') : t('hiddenMessage'))}</p>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
