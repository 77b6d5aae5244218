import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { fmtDateTime, t } from '../i18n';
import { Status } from '../ui/notices';
import { errText } from '../ui/errors';
import type { AuditEntry, Room } from '../types';

/** The append-only audit log, for staff: who did what, where and why. */
export function AuditScreen() {
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [rooms, setRooms] = useState<Room[]>([]);
  const [roomId, setRoomId] = useState('');
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    void api<{ rooms: Room[] }>('GET', '/api/rooms').then((r) => setRooms(r.rooms)).catch(() => undefined);
  }, []);
  useEffect(() => {
    setEntries(null);
    void api<{ entries: AuditEntry[] }>('GET', `/api/audit?limit=200${roomId ? `&roomId=${roomId}` : ''}`)
      .then((r) => setEntries(r.entries))
      .catch((e) => setError(errText(e)));
  }, [roomId]);

  const roomName = (id: string | null) => (id ? (rooms.find((r) => r.id === id)?.name ?? id.slice(0, 8)) : '—');
  const actorName = (a: any) => (a && typeof a === 'object' ? (a.displayName ?? a.handle ?? '') : a ? String(a).slice(0, 8) : '—');

  return (
    <section>
      <h1>{t('auditTitle')}</h1>
      <div class="field inline">
        <label for="audit-room">{t('auditWhere')}</label>
        <select id="audit-room" value={roomId} onChange={(e) => setRoomId(e.currentTarget.value)}>
          <option value="">{t('allRooms')}</option>
          {rooms.map((r) => (
            <option key={r.id} value={r.id}>
              {r.name}
            </option>
          ))}
        </select>
      </div>
      {error && <Status kind="error" text={error} />}
      {!entries && !error && <p>{t('loading')}</p>}
      {entries && entries.length === 0 && <p class="empty">{t('auditEmpty')}</p>}
      {entries && entries.length > 0 && (
        <div class="table-wrap" tabIndex={0} role="region" aria-labelledby="audit-caption">
          <table>
            <caption id="audit-caption" class="visually-hidden">
              {t('auditTitle')}
            </caption>
            <thead>
              <tr>
                <th scope="col">{t('auditWhen')}</th>
                <th scope="col">{t('auditWho')}</th>
                <th scope="col">{t('auditWhat')}</th>
                <th scope="col">{t('auditWhere')}</th>
                <th scope="col">{t('auditReason')}</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <tr key={e.id}>
                  <td>{fmtDateTime(e.createdAt)}</td>
                  <td>{actorName(e.actor)}</td>
                  <td>
                    <code>{e.action}</code>
                  </td>
                  <td>{roomName(e.roomId)}</td>
                  <td>{e.reason ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
