import { useState } from 'preact/hooks';
import { api } from '../api';
import { fmtTime, t } from '../i18n';
import { Status } from '../ui/notices';
import { errText } from '../ui/errors';
import type { FlagReason, Message } from '../types';
import { FormActions } from '../ui/form-actions';

export type Mode = 'menu' | 'edit' | 'delete' | 'report' | 'hide';
const REASONS: FlagReason[] = ['harassment', 'spam', 'self_harm', 'personal_info', 'other'];

/** One message. Bodies and names are always text nodes: nothing from a message becomes markup. */
export function MessageItem(props: {
  message: Message;
  replyOf?: Message;
  mine: boolean;
  moderator: boolean;
  mode: Mode | null;
  setMode: (mode: Mode | null) => void;
  onReply: () => void;
  onChanged: (m: Message) => void;
}) {
  const { message: m, mode, setMode } = props;
  const [text, setText] = useState('');
  const [reason, setReason] = useState<FlagReason>('harassment');
  const [status, setStatus] = useState<{ text: string; kind: 'ok' | 'error' } | null>(null);
  const gone = m.deleted || (m.hidden && m.body === null);

  const run = async (fn: () => Promise<unknown>, ok?: string) => {
    setStatus(null);
    try {
      await fn();
      setMode(null);
      if (ok) setStatus({ text: ok, kind: 'ok' });
    } catch (err) {
      setStatus({ text: errText(err), kind: 'error' });
    }
  };

  const menuId = `actions-${m.id}`;
  return (
    <li class={`message ${props.mine ? 'mine' : ''} ${gone ? 'gone' : ''}`} data-seq={m.seq} data-testid="message">
      <div class="bubble">
        <p class="meta">
          <span class="author">{m.author.displayName}</span>
          <time dateTime={m.createdAt}>{fmtTime(m.createdAt)}</time>
          {m.editedAt && !m.deleted && <span class="hint">{t('edited')}</span>}
          {!m.deleted && mode !== 'edit' && (
            <button
              type="button"
              class="quiet small more"
              aria-expanded={mode !== null}
              aria-controls={menuId}
              aria-label={t('messageActions', { name: m.author.displayName })}
              onClick={() => setMode(mode ? null : 'menu')}
            >
              <span aria-hidden="true">⋯</span>
            </button>
          )}
        </p>
        {props.replyOf && (
          <p class="quote">
            <span class="author">{props.replyOf.author.displayName}</span>
            {props.replyOf.body ?? (props.replyOf.deleted ? t('deletedMessage') : t('hiddenMessage'))}
          </p>
        )}
        {m.deleted ? (
          <p class="body gone-text">{t('deletedMessage')}</p>
        ) : m.hidden && m.body === null ? (
          <p class="body gone-text" data-testid="hidden-message">
            {t('hiddenMessage')}
          </p>
        ) : mode === 'edit' ? (
          <form
            class="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              void run(async () => props.onChanged(await api<Message>('PATCH', `/api/messages/${m.id}`, { body: text.trim() })));
            }}
          >
            <label for={`edit-${m.id}`} class="visually-hidden">
              {t('editLabel')}
            </label>
            <textarea id={`edit-${m.id}`} rows={3} maxLength={4000} value={text} onInput={(e) => setText(e.currentTarget.value)} />
            <FormActions submit={t('save')} submitClass="primary small" disabled={!text.trim()} small onCancel={() => setMode(null)} />
          </form>
        ) : (
          <>
            <p class="body">{m.body}</p>
            {m.hidden && <p class="hint">{t('hiddenForOthers')}</p>}
          </>
        )}

        {!m.deleted && mode && mode !== 'edit' && (
          <div class="actions">
            {(
              <div id={menuId} class="action-row">
                {mode === 'menu' && (
                  <>
                    {!gone && (
                      <button type="button" class="quiet small" onClick={() => { setMode(null); props.onReply(); }}>
                        {t('reply')}
                      </button>
                    )}
                    {props.mine && !gone && (
                      <button type="button" class="quiet small" onClick={() => { setText(m.body ?? ''); setMode('edit'); }}>
                        {t('edit')}
                      </button>
                    )}
                    {(props.mine || props.moderator) && (
                      <button type="button" class="quiet small" onClick={() => setMode('delete')}>
                        {t('delete')}
                      </button>
                    )}
                    {!props.mine && !gone && (
                      <button type="button" class="quiet small" onClick={() => setMode('report')}>
                        {t('report')}
                      </button>
                    )}
                    {props.moderator && !props.mine && !m.hidden && (
                      <button type="button" class="quiet small" onClick={() => { setText(''); setMode('hide'); }}>
                        {t('hide')}
                      </button>
                    )}
                    {props.moderator && m.hidden && (
                      <button type="button" class="quiet small" onClick={() => void run(async () => props.onChanged(await api<Message>('POST', `/api/messages/${m.id}/unhide`)))}>
                        {t('unhide')}
                      </button>
                    )}
                  </>
                )}
                {mode === 'delete' && (
                  <>
                    <button type="button" class="danger small" onClick={() => void run(() => api('DELETE', `/api/messages/${m.id}`).then(() => props.onChanged({ ...m, deleted: true, body: null })))}>
                      {t('confirmDelete')}
                    </button>
                    <button type="button" class="quiet small" onClick={() => setMode(null)}>
                      {t('cancel')}
                    </button>
                  </>
                )}
                {mode === 'report' && (
                  <form
                    class="inline-form"
                    aria-label={t('reportTitle')}
                    onSubmit={(e) => {
                      e.preventDefault();
                      void run(() => api('POST', `/api/messages/${m.id}/flags`, { reason, ...(text.trim() ? { note: text.trim() } : {}) }), t('reportThanks'));
                    }}
                  >
                    <p class="form-title">{t('reportTitle')}</p>
                    <div class="field">
                      <label for={`reason-${m.id}`}>{t('reportReason')}</label>
                      <select id={`reason-${m.id}`} value={reason} onChange={(e) => setReason(e.currentTarget.value as FlagReason)}>
                        {REASONS.map((r) => (
                          <option key={r} value={r}>
                            {t(`reason_${r}`)}
                          </option>
                        ))}
                      </select>
                    </div>
                    <div class="field">
                      <label for={`note-${m.id}`}>
                        {t('reportNote')} <span class="hint">{t('optional')}</span>
                      </label>
                      <input id={`note-${m.id}`} maxLength={500} value={text} onInput={(e) => setText(e.currentTarget.value)} />
                    </div>
                    <FormActions submit={t('reportSend')} submitClass="primary small" small onCancel={() => setMode(null)} />
                  </form>
                )}
                {mode === 'hide' && (
                  <form
                    class="inline-form"
                    onSubmit={(e) => {
                      e.preventDefault();
                      void run(async () => props.onChanged(await api<Message>('POST', `/api/messages/${m.id}/hide`, { reason: text.trim() })));
                    }}
                  >
                    <div class="field">
                      <label for={`hide-${m.id}`}>{t('reasonLabel')}</label>
                      <input id={`hide-${m.id}`} required maxLength={500} value={text} onInput={(e) => setText(e.currentTarget.value)} />
                    </div>
                    <FormActions submit={t('hide')} submitClass="primary small" small onCancel={() => setMode(null)} />
                  </form>
                )}
              </div>
            )}
          </div>
        )}
        {status && <Status kind={status.kind} text={status.text} />}
      </div>
    </li>
  );
}
