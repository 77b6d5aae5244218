import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n';
import { onEvent } from '../realtime';
import type { SupportResource } from '../types';

/** The help panel: a calm, dismissible region (never a modal) shown when the server sends support resources. */
export function HelpPanel() {
  const [resources, setResources] = useState<SupportResource[] | null>(null);
  useEffect(() => onEvent('support:resources', (p: { resources: SupportResource[] }) => setResources(p.resources ?? [])), []);
  if (!resources) return null;
  return (
    <aside class="help-panel" aria-labelledby="help-title" data-testid="help-panel">
      <h2 id="help-title">{t('helpTitle')}</h2>
      <p>{t('helpIntro')}</p>
      <ul>
        {resources.map((r) => (
          <li key={r.name}>
            <strong>{r.name}</strong>
            {r.phone && (
              <div>
                {t('helpPhone')}: <a href={`tel:${r.phone.replace(/[^\d+]/g, '')}`}>{r.phone}</a>
              </div>
            )}
            {r.hours && (
              <div>
                {t('helpHours')}: {r.hours}
              </div>
            )}
            {r.url && /^https?:\/\//.test(r.url) && (
              <div>
                <a href={r.url} target="_blank" rel="noopener noreferrer">
                  {r.url}
                </a>
              </div>
            )}
          </li>
        ))}
      </ul>
      <button type="button" class="quiet" onClick={() => setResources(null)}>
        {t('close')}
      </button>
    </aside>
  );
}

/** A polite status line, e.g. "saved" or an error, read out by screen readers. */
export function Status(props: { text?: string | null; kind?: 'ok' | 'error' }) {
  return (
    <p class={`status ${props.kind ?? 'ok'}`} role={props.kind === 'error' ? 'alert' : 'status'}>
      {props.text ?? ''}
    </p>
  );
}
