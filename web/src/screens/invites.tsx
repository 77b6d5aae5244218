import { useEffect, useState } from 'preact/hooks';
import { api, session } from '../api';
import { fmtDateTime, t } from '../i18n';
import { Status } from '../ui/notices';
import { errText } from '../ui/errors';
import type { Invite, Role, Room } from '../types';

/** Staff and admins: make invite codes (shown once, with the /invite/<code> link) and revoke them. */
export function InvitesScreen() {
  const admin = session.user?.role === 'admin';
  const roles: Role[] = admin ? ['member', 'family', 'moderator', 'staff', 'admin'] : ['member', 'family', 'moderator'];
  const [invites, setInvites] = useState<Invite[]>([]);
  const [rooms, setRooms] = useState<Room[]>([]);
  const [role, setRole] = useState<Role>('member');
  const [roomIds, setRoomIds] = useState<string[]>([]);
  const [hours, setHours] = useState(168);
  const [uses, setUses] = useState(1);
  const [note, setNote] = useState('');
  const [created, setCreated] = useState<Invite | null>(null);
  const [copied, setCopied] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const load = () => api<{ invites: Invite[] }>('GET', '/api/invites').then((r) => setInvites(r.invites)).catch((e) => setError(errText(e)));
  useEffect(() => {
    void load();
    void api<{ rooms: Room[] }>('GET', '/api/rooms').then((r) => setRooms(r.rooms)).catch(() => undefined);
  }, []);

  const link = created?.code ? `${location.origin}/invite/${encodeURIComponent(created.code)}` : '';
  const roomName = (id: string) => rooms.find((r) => r.id === id)?.name ?? id.slice(0, 8);

  return (
    <section>
      <h1>{t('invitesTitle')}</h1>
      {created?.code && (
        <div class="card highlight" role="status" data-testid="invite-created">
          <p>{t('inviteCreated')}</p>
          <div class="field">
            <label for="new-code">{t('inviteCode1')}</label>
            <input id="new-code" class="mono" readOnly value={created.code} onFocus={(e) => e.currentTarget.select()} />
          </div>
          <div class="field">
            <label for="new-link">{t('inviteLink')}</label>
            <input id="new-link" class="mono wide" readOnly value={link} onFocus={(e) => e.currentTarget.select()} />
          </div>
          <button
            type="button"
            class="quiet small"
            onClick={() => void navigator.clipboard?.writeText(link).then(() => setCopied(true)).catch(() => undefined)}
          >
            {copied ? t('copied') : t('copy')}
          </button>
        </div>
      )}
      <form
        class="card"
        onSubmit={async (e) => {
          e.preventDefault();
          setError(null);
          setCopied(false);
          try {
            const inv = await api<Invite>('POST', '/api/invites', { role, roomIds, maxUses: uses, expiresInHours: hours, ...(note.trim() ? { note: note.trim() } : {}) });
            setCreated(inv);
            setNote('');
            void load();
          } catch (err) {
            setError(errText(err));
          }
        }}
      >
        <h2>{t('newInvite')}</h2>
        <div class="grid2">
          <div class="field">
            <label for="inv-role">{t('role')}</label>
            <select id="inv-role" value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
              {roles.map((r) => (
                <option key={r} value={r}>
                  {t(`role_${r}`)}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="inv-hours">{t('expiresIn')}</label>
            <input id="inv-hours" type="number" min={1} max={720} required value={hours} onInput={(e) => setHours(Number(e.currentTarget.value))} />
          </div>
          <div class="field">
            <label for="inv-uses">{t('maxUses')}</label>
            <input id="inv-uses" type="number" min={1} max={100} required value={uses} onInput={(e) => setUses(Number(e.currentTarget.value))} />
          </div>
          <div class="field">
            <label for="inv-note">
              {t('inviteNote')} <span class="hint">{t('optional')}</span>
            </label>
            <input id="inv-note" maxLength={200} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
          </div>
        </div>
        {rooms.length > 0 && (
          <fieldset>
            <legend>{t('inviteRooms')}</legend>
            {rooms.map((r) => (
              <div class="check" key={r.id}>
                <input
                  id={`inv-room-${r.id}`}
                  type="checkbox"
                  checked={roomIds.includes(r.id)}
                  onChange={(e) => setRoomIds((cur) => (e.currentTarget.checked ? [...cur, r.id] : cur.filter((x) => x !== r.id)))}
                />
                <label for={`inv-room-${r.id}`}>{r.name}</label>
              </div>
            ))}
          </fieldset>
        )}
        {error && <Status kind="error" text={error} />}
        <button type="submit" class="primary">
          {t('newInvite')}
        </button>
      </form>

      <h2>{t('invitesList')}</h2>
      {invites.length === 0 && <p class="empty">{t('noInvites')}</p>}
      <ul class="invite-list">
        {invites.map((inv) => {
          const revoked = !!inv.revokedAt;
          return (
            <li key={inv.id} class="card row wrap">
              <span class="tag">{t(`role_${inv.role}`)}</span>
              <span>{t('uses', { uses: inv.uses, max: inv.maxUses })}</span>
              <span class="hint">{t('expires', { time: fmtDateTime(inv.expiresAt) })}</span>
              {inv.roomIds.length > 0 && <span class="hint">{inv.roomIds.map(roomName).join('、')}</span>}
              {inv.note && <span class="hint">{inv.note}</span>}
              {revoked ? (
                <span class="tag">{t('revoked')}</span>
              ) : (
                <button type="button" class="quiet small" onClick={() => void api('DELETE', `/api/invites/${inv.id}`).then(load).catch((e) => setError(errText(e)))}>
                  {t('revoke')}
                </button>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
