import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api';
import { emitWithAck, onEvent } from '../realtime';
import type { Message } from '../types';

const PAGE = 50;

/**
 * The messages of one room, keyed by seq so nothing is ever shown twice. `live` is the highest seq up to
 * which the log has no gaps; a message beyond live+1, or a reconnect, triggers `room:catchup` until complete.
 */
export function useMessageLog(roomId: string) {
  const state = useRef({ bySeq: new Map<number, Message>(), live: 0, oldest: Infinity, hasMore: false, loaded: false, catching: false, again: false }).current;
  const [version, setVersion] = useState(0);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const bump = () => setVersion((v) => v + 1);

  const upsert = (m: Message) => {
    state.bySeq.set(m.seq, m);
    state.oldest = Math.min(state.oldest, m.seq);
  };
  const maxSeen = () => Math.max(0, ...state.bySeq.keys());

  const catchup = async () => {
    if (!state.loaded) return;
    if (state.catching) {
      state.again = true;
      return;
    }
    state.catching = true;
    try {
      do {
        state.again = false;
        for (;;) {
          const res = await emitWithAck<{ ok: boolean; messages?: Message[] }>('room:catchup', { roomId, afterSeq: state.live });
          const batch = res.ok ? (res.messages ?? []) : [];
          for (const m of batch) upsert(m);
          if (batch.length) state.live = Math.max(state.live, batch[batch.length - 1]!.seq);
          bump();
          if (!batch.length || (batch.length < 200 && state.live >= maxSeen())) break;
        }
      } while (state.again);
    } catch {
      // Disconnected mid-way: the reconnect starts another catch-up.
    } finally {
      state.catching = false;
    }
  };

  useEffect(() => {
    const offs = [
      onEvent('message:new', (m: Message) => {
        if (m.roomId !== roomId) return;
        upsert(m);
        if (state.loaded && m.seq === state.live + 1) state.live = m.seq;
        else if (state.loaded && m.seq > state.live + 1) void catchup();
        bump();
      }),
      onEvent('message:updated', (m: Message) => {
        if (m.roomId !== roomId || !state.bySeq.has(m.seq)) return;
        state.bySeq.set(m.seq, m);
        bump();
      }),
      onEvent('message:deleted', (d: { roomId: string; seq: number }) => {
        const m = d.roomId === roomId ? state.bySeq.get(d.seq) : undefined;
        if (!m) return;
        state.bySeq.set(d.seq, { ...m, deleted: true, body: null });
        bump();
      }),
      onEvent('reconnected', () => void catchup()),
    ];
    api<{ messages: Message[] }>('GET', `/api/rooms/${roomId}/messages?limit=${PAGE}`)
      .then(({ messages }) => {
        for (const m of messages) upsert(m);
        state.live = messages.length ? messages[messages.length - 1]!.seq : 0;
        state.hasMore = messages.length === PAGE && messages[0]!.seq > 1;
        state.loaded = true;
        bump();
        void catchup(); // anything that arrived between the page and the live stream
      })
      .catch(setError);
    return () => offs.forEach((off) => off());
  }, [roomId]);

  const loadOlder = async () => {
    if (!state.hasMore || loadingOlder) return;
    setLoadingOlder(true);
    try {
      const { messages } = await api<{ messages: Message[] }>('GET', `/api/rooms/${roomId}/messages?before=${state.oldest}&limit=${PAGE}`);
      for (const m of messages) upsert(m);
      state.hasMore = messages.length === PAGE && messages[0]!.seq > 1;
      bump();
    } catch (e) {
      setError(e);
    } finally {
      setLoadingOlder(false);
    }
  };

  const messages = [...state.bySeq.values()].sort((a, b) => a.seq - b.seq);
  return {
    messages,
    version,
    loaded: state.loaded,
    hasMore: state.hasMore,
    live: state.live,
    loadingOlder,
    error,
    loadOlder,
    /** Adds a message we sent (from the HTTP answer); the broadcast of the same seq merges into it. */
    add(m: Message) {
      upsert(m);
      if (m.seq === state.live + 1) state.live = m.seq;
      else if (m.seq > state.live + 1) void catchup();
      bump();
    },
    replace(m: Message) {
      if (state.bySeq.has(m.seq)) state.bySeq.set(m.seq, m);
      bump();
    },
  };
}
