import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, session, uuid } from '../api';
import { fmtLeft, t } from '../i18n';
import { emit, onEvent } from '../realtime';
import { Link, navigate } from '../router';
import { Status } from '../ui/notices';
import { errText } from '../ui/errors';
import { useMessageLog } from './message-log';
import { MessageItem, type Mode } from './message-item';
import { RoomManage } from './room-manage';
import type { Call, Member, Message, Room } from '../types';

interface Pending {
  clientId: string;
  body: string;
  replyTo: string | null;
  failed?: string;
}

export function RoomScreen(props: { roomId: string }) {
  const { roomId } = props;
  const me = session.user!;
  const [room, setRoom] = useState<Room | null>(null);
  const [roomError, setRoomError] = useState<string | null>(null);
  const [members, setMembers] = useState<Member[]>([]);
  const [call, setCall] = useState<{ call: Call; joinUrl: string } | null>(null);
  const [muted, setMuted] = useState<{ until: string; reason?: string } | null>(null);
  const [typing, setTyping] = useState<Record<string, { name: string; until: number }>>({});
  const [draft, setDraft] = useState('');
  const [replyTo, setReplyTo] = useState<Message | null>(null);
  const [pending, setPending] = useState<Pending[]>([]);
  const [active, setActive] = useState<{ id: string; mode: Mode } | null>(null);
  const [manageOpen, setManageOpen] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [confirmLeave, setConfirmLeave] = useState(false);
  const log = useMessageLog(roomId);
  const listRef = useRef<HTMLDivElement>(null);
  const topRef = useRef<HTMLDivElement>(null);
  const anchor = useRef<{ height: number; top: number } | null>(null);
  const stick = useRef(true);
  const lastTypingSent = useRef(0);
  const composerRef = useRef<HTMLTextAreaElement>(null);

  const isModerator = room?.myRole === 'moderator';

  const loadRoom = () =>
    api<Room>('GET', `/api/rooms/${roomId}`)
      .then(setRoom)
      .catch((e) => setRoomError(e instanceof ApiError && e.status === 404 ? t('notFound') : errText(e)));
  const loadMembers = () =>
    api<{ members: Member[] }>('GET', `/api/rooms/${roomId}/members`)
      .then((r) => {
        setMembers(r.members);
        const mine = r.members.find((m) => m.user.id === me.id);
        if (mine?.mutedUntil && new Date(mine.mutedUntil).getTime() > Date.now()) setMuted((cur) => ({ until: mine.mutedUntil!, reason: cur?.reason }));
        else setMuted(null);
      })
      .catch(() => undefined);
  const loadCall = () =>
    api<{ call: Call; joinUrl: string }>('GET', `/api/rooms/${roomId}/call`)
      .then(setCall)
      .catch(() => setCall(null));

  useEffect(() => {
    void loadRoom();
    void loadMembers();
    void loadCall();
    const offs = [
      onEvent('room:updated', (r: Room) => r.id === roomId && setRoom((cur) => ({ ...cur, ...r, myRole: r.myRole ?? cur?.myRole }) as Room)),
      onEvent('call:started', (c: Call) => c.roomId === roomId && void loadCall()),
      onEvent('call:ended', (c: { roomId: string }) => c.roomId === roomId && setCall(null)),
      onEvent('typing', (p: { roomId: string; user: { id: string; displayName: string } }) => {
        if (p.roomId !== roomId || p.user.id === me.id) return;
        setTyping((cur) => ({ ...cur, [p.user.id]: { name: p.user.displayName, until: Date.now() + 5000 } }));
      }),
      onEvent('member:joined', (p: { roomId: string }) => p.roomId === roomId && void loadMembers()),
      onEvent('member:left', (p: { roomId: string; userId: string }) => {
        if (p.roomId !== roomId) return;
        if (p.userId === me.id) navigate('/', true);
        else void loadMembers();
      }),
      onEvent('moderation:applied', (p: { roomId?: string; action: string; until?: string; reason: string }) => {
        if (p.roomId && p.roomId !== roomId) return;
        if (/unmute/.test(p.action)) setMuted(null);
        else if (/mute/.test(p.action) && p.until) setMuted({ until: p.until, reason: p.reason });
        else if (/ban|remove/.test(p.action)) navigate('/', true);
      }),
      onEvent('message:new', (m: Message) => {
        if (m.roomId === roomId) setTyping((cur) => (cur[m.author.id] ? { ...cur, [m.author.id]: { ...cur[m.author.id]!, until: 0 } } : cur));
      }),
      onEvent('reconnected', () => {
        void loadRoom();
        void loadCall();
        void loadMembers();
      }),
    ];
    const tick = setInterval(() => setTyping((cur) => Object.fromEntries(Object.entries(cur).filter(([, v]) => v.until > Date.now()))), 1000);
    return () => {
      offs.forEach((off) => off());
      clearInterval(tick);
    };
  }, [roomId]);

  // Read marker: private to the reader (no read receipts), moved when new messages are on screen.
  useEffect(() => {
    if (!log.loaded || !log.live || document.visibilityState !== 'visible') return;
    const timer = setTimeout(() => void api('POST', `/api/rooms/${roomId}/read`, { seq: log.live }).catch(() => undefined), 800);
    return () => clearTimeout(timer);
  }, [log.live, log.loaded]);

  // Scrolling: keep the view at the bottom for new messages, keep the place when older ones load above.
  useLayoutEffect(() => {
    const el = listRef.current;
    if (!el) return;
    if (anchor.current) {
      el.scrollTop = el.scrollHeight - anchor.current.height + anchor.current.top;
      anchor.current = null;
    } else if (stick.current) {
      el.scrollTop = el.scrollHeight;
    }
  }, [log.version, pending.length]);

  const loadOlder = () => {
    const el = listRef.current;
    if (el) anchor.current = { height: el.scrollHeight, top: el.scrollTop };
    void log.loadOlder();
  };

  useEffect(() => {
    const el = topRef.current;
    if (!el || !('IntersectionObserver' in window)) return;
    const obs = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && log.hasMore && !log.loadingOlder && listRef.current && listRef.current.scrollHeight > listRef.current.clientHeight) loadOlder();
    }, { root: listRef.current });
    obs.observe(el);
    return () => obs.disconnect();
  }, [log.hasMore, log.loadingOlder, log.version]);

  const send = async (p: Pending) => {
    setPending((cur) => [...cur.filter((x) => x.clientId !== p.clientId), { ...p, failed: undefined }]);
    try {
      const m = await api<Message>('POST', `/api/rooms/${roomId}/messages`, { body: p.body, clientId: p.clientId, ...(p.replyTo ? { replyTo: p.replyTo } : {}) });
      log.add(m);
      setPending((cur) => cur.filter((x) => x.clientId !== p.clientId));
    } catch (err) {
      let text = t('sendFailed');
      if (err instanceof ApiError) {
        if (err.code === 'RATE_LIMITED') text = room?.slowModeSeconds ? t('slowWait', { s: Math.ceil((err.details?.retryAfterMs ?? 1000) / 1000) }) : t('tooMany');
        else if (err.code === 'LOCKED') {
          text = err.message;
          void loadRoom();
          void loadMembers();
        } else text = errText(err);
      }
      setPending((cur) => cur.map((x) => (x.clientId === p.clientId ? { ...x, failed: text } : x)));
    }
  };

  const submit = () => {
    const body = draft.trim();
    if (!body) return;
    if (body.length > 4000) {
      setNotice(t('tooLong'));
      return;
    }
    setNotice(null);
    stick.current = true;
    void send({ clientId: uuid(), body, replyTo: replyTo?.id ?? null });
    setDraft('');
    setReplyTo(null);
  };

  const onKeyDown = (e: KeyboardEvent) => {
    // While an IME is composing (Japanese input), Enter confirms the conversion and must never send.
    if (e.key !== 'Enter' || e.shiftKey || e.isComposing || e.keyCode === 229) return;
    e.preventDefault();
    submit();
  };

  const onInput = (value: string) => {
    setDraft(value);
    if (value && Date.now() - lastTypingSent.current > 3000) {
      lastTypingSent.current = Date.now();
      emit('typing', { roomId });
    }
  };

  if (roomError) {
    return (
      <section>
        <p>{roomError}</p>
        <Link href="/">{t('backToRooms')}</Link>
      </section>
    );
  }
  if (!room) return <p>{t('loading')}</p>;

  const canStartCall = isModerator || room.membersCanStartCalls;
  const typingNames = Object.values(typing).filter((v) => v.until > Date.now());
  const byId = new Map(log.messages.map((m) => [m.id, m]));
  const blocked = (room.locked && !isModerator) || !!muted;

  return (
    <div class={`room-layout ${manageOpen ? 'with-side' : ''}`}>
      <section class="room" aria-labelledby="room-title">
        <header class="room-head">
          <Link href="/" class="back" aria-label={t('backToRooms')}>
            <span aria-hidden="true">←</span>
          </Link>
          <div class="room-title">
            <h1 id="room-title">{room.name}</h1>
            {room.description && <p class="room-desc">{room.description}</p>}
          </div>
          <div class="room-tools">
            {!call && canStartCall && (
              <button type="button" class="quiet" onClick={() => void api('POST', `/api/rooms/${roomId}/call`).then(loadCall).catch((e) => setNotice(errText(e)))}>
                {t('callStart')}
              </button>
            )}
            {isModerator ? (
              <button type="button" class="quiet" aria-expanded={manageOpen} aria-controls="room-manage" onClick={() => setManageOpen(!manageOpen)}>
                {t('roomManage')}
              </button>
            ) : (
              <button
                type="button"
                class={confirmLeave ? 'danger small' : 'quiet small'}
                onClick={() =>
                  confirmLeave
                    ? void api('DELETE', `/api/rooms/${roomId}/members/me`).then(() => navigate('/', true)).catch((e) => setNotice(errText(e)))
                    : setConfirmLeave(true)
                }
                onBlur={() => setConfirmLeave(false)}
              >
                {confirmLeave ? t('confirmLeave') : t('leaveRoom')}
              </button>
            )}
          </div>
        </header>

        {call && (
          <div class="banner call-banner" role="status" data-testid="call-banner">
            <p>
              <strong>{t('callLive')}</strong>
            </p>
            <p class="hint">{t('callNote')}</p>
            <p class="row">
              <a class="button primary" href={call.joinUrl} target="_blank" rel="noopener noreferrer">
                {t('callJoin')}
              </a>
              {(isModerator || (call.call.startedBy as { id?: string } | null)?.id === me.id || call.call.startedBy === me.id) && (
                <button type="button" class="quiet" onClick={() => void api('DELETE', `/api/rooms/${roomId}/call`).then(() => setCall(null)).catch((e) => setNotice(errText(e)))}>
                  {t('callEnd')}
                </button>
              )}
            </p>
          </div>
        )}
        {muted && (
          <div class="banner soft-banner" role="status" data-testid="muted-banner">
            <p>{t('mutedBanner', { left: fmtLeft(muted.until) })}</p>
            {muted.reason && <p class="hint">{t('mutedReason', { reason: muted.reason })}</p>}
          </div>
        )}
        {room.locked && (
          <p class="banner soft-banner" role="status" data-testid="locked-banner">
            {t('lockedBanner')}
          </p>
        )}
        {room.slowModeSeconds > 0 && (
          <p class="banner soft-banner" role="status" data-testid="slow-banner">
            {t('slowBanner', { s: room.slowModeSeconds })}
          </p>
        )}

        <div
          class="messages"
          ref={listRef}
          role="log"
          aria-label={t('messagesLabel')}
          tabIndex={0}
          onScroll={(e) => {
            const el = e.currentTarget;
            stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 120;
          }}
        >
          <div ref={topRef} class="top-sentinel">
            {log.hasMore ? (
              <button type="button" class="quiet small" onClick={loadOlder} disabled={log.loadingOlder}>
                {log.loadingOlder ? t('loading') : t('loadOlder')}
              </button>
            ) : (
              log.loaded && log.messages.length > 0 && <p class="hint center">{t('noOlder')}</p>
            )}
          </div>
          {log.loaded && log.messages.length === 0 && pending.length === 0 && <p class="empty center">{t('noMessages')}</p>}
          <ol class="message-list">
            {log.messages.map((m) => (
              <MessageItem
                key={m.seq}
                message={m}
                replyOf={m.replyTo ? byId.get(m.replyTo) : undefined}
                mine={m.author.id === me.id}
                moderator={isModerator}
                mode={active?.id === m.id ? active.mode : null}
                setMode={(mode) => setActive(mode ? { id: m.id, mode } : null)}
                onReply={() => {
                  setReplyTo(m);
                  composerRef.current?.focus();
                }}
                onChanged={log.replace}
              />
            ))}
            {pending.map((p) => (
              <li key={p.clientId} class="message mine pending">
                <div class="bubble">
                  <p class="body">{p.body}</p>
                  {p.failed ? (
                    <p class="failed" role="alert">
                      {p.failed}{' '}
                      <button type="button" class="quiet small" onClick={() => void send(p)}>
                        {t('retry')}
                      </button>{' '}
                      <button type="button" class="quiet small" onClick={() => setPending((cur) => cur.filter((x) => x.clientId !== p.clientId))}>
                        {t('cancel')}
                      </button>
                    </p>
                  ) : (
                    <p class="hint">{t('sending')}</p>
                  )}
                </div>
              </li>
            ))}
          </ol>
        </div>

        <p class="typing" aria-hidden={typingNames.length === 0}>
          {typingNames.length === 1 ? t('typingOne', { name: typingNames[0]!.name }) : typingNames.length > 1 ? t('typingMany') : ''}
        </p>

        <form
          class="composer"
          onSubmit={(e) => {
            e.preventDefault();
            submit();
          }}
        >
          {replyTo && (
            <p class="replying">
              {t('replyingTo', { name: replyTo.author.displayName })}
              <button type="button" class="quiet small" onClick={() => setReplyTo(null)}>
                {t('cancelReply')}
              </button>
            </p>
          )}
          {notice && <Status kind="error" text={notice} />}
          <label for="composer" class="visually-hidden">
            {t('composerLabel')}
          </label>
          <div class="composer-row">
            <textarea
              id="composer"
              ref={composerRef}
              rows={2}
              maxLength={4000}
              placeholder={t('composerLabel')}
              aria-describedby="composer-hint"
              value={draft}
              disabled={blocked}
              onInput={(e) => onInput(e.currentTarget.value)}
              onKeyDown={onKeyDown}
            />
            <button type="submit" class="primary" disabled={blocked || !draft.trim()}>
              {t('send')}
            </button>
          </div>
          <p class="hint" id="composer-hint">
            {t('composerHint')}
          </p>
        </form>
      </section>
      {isModerator && manageOpen && (
        <RoomManage room={room} members={members} onRoom={setRoom} onMembers={loadMembers} />
      )}
    </div>
  );
}

