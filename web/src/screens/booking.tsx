import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from '../api';
import { fmtDate, fmtDateTime, fmtTime, t } from '../i18n';
import { onEvent } from '../realtime';
import { Status } from '../ui/notices';
import { errText } from '../ui/errors';
import type { Booking, Slot } from '../types';
import { FormActions } from '../ui/form-actions';

export function weekStart(offset: number): Date {
  const d = new Date();
  d.setHours(0, 0, 0, 0);
  d.setDate(d.getDate() - ((d.getDay() + 6) % 7) + offset * 7);
  return d;
}

/** Members and families: open slots by week, booking as office or visit, and their own bookings. */
export function BookingScreen() {
  const [week, setWeek] = useState(0);
  const [slots, setSlots] = useState<Slot[] | null>(null);
  const [bookings, setBookings] = useState<Booking[]>([]);
  const [open, setOpen] = useState<string | null>(null);
  const [status, setStatus] = useState<{ text: string; kind: 'ok' | 'error' } | null>(null);
  const from = weekStart(week);
  const to = new Date(from.getTime() + 7 * 86400_000);

  const loadSlots = () =>
    api<{ slots: Slot[] }>('GET', `/api/slots?from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`)
      .then((r) => setSlots(r.slots.filter((s) => !s.booked)))
      .catch((e) => setStatus({ text: errText(e), kind: 'error' }));
  const loadBookings = () => api<{ bookings: Booking[] }>('GET', '/api/bookings').then((r) => setBookings(r.bookings)).catch(() => undefined);

  useEffect(() => {
    setSlots(null);
    void loadSlots();
  }, [week]);
  useEffect(() => {
    void loadBookings();
    return onEvent('booking:updated', () => void loadBookings());
  }, []);

  const days: Date[] = Array.from({ length: 7 }, (_, i) => new Date(from.getTime() + i * 86400_000));
  const active = bookings.filter((b) => b.status === 'requested' || b.status === 'confirmed');
  const past = bookings.filter((b) => !(b.status === 'requested' || b.status === 'confirmed'));

  return (
    <section>
      <h1>{t('bookingTitle')}</h1>
      <p class="lead">{t('bookingIntro')}</p>
      {status && <Status kind={status.kind} text={status.text} />}

      <h2>{t('myBookings')}</h2>
      {bookings.length === 0 && <p class="empty">{t('noBookings')}</p>}
      <ul class="booking-list">
        {[...active, ...past].map((b) => (
          <li key={b.id} class="card booking" data-testid="my-booking">
            <p class="row wrap">
              <strong>{fmtDateTime(b.startsAt)}</strong>
              <span class={`tag status-${b.status}`}>{t(`status_${b.status}`)}</span>
              <span class="tag">{t(`kind_${b.kind}`)}</span>
            </p>
            <p class="hint">
              {t('withStaff', { name: b.staff.displayName })}
              {b.location ? ` · ${t('place', { place: b.location })}` : ''}
            </p>
            {(b.status === 'requested' || b.status === 'confirmed') && (
              <button
                type="button"
                class="quiet small"
                onClick={() =>
                  void api<Booking>('POST', `/api/bookings/${b.id}/cancel`, {})
                    .then(() => Promise.all([loadBookings(), loadSlots()]))
                    .catch((e) => setStatus({ text: errText(e), kind: 'error' }))
                }
              >
                {t('cancelBooking')}
              </button>
            )}
          </li>
        ))}
      </ul>

      <h2>{t('weekOf', { date: fmtDate(from) })}</h2>
      <p class="row">
        <button type="button" class="quiet" disabled={week <= 0} onClick={() => setWeek(week - 1)}>
          ← {t('prevWeek')}
        </button>
        <button type="button" class="quiet" onClick={() => setWeek(week + 1)}>
          {t('nextWeek')} →
        </button>
      </p>
      {!slots && <p>{t('loading')}</p>}
      {slots && slots.length === 0 && <p class="empty">{t('noSlots')}</p>}
      {slots &&
        days.map((day) => {
          const daySlots = slots.filter((s) => new Date(s.startsAt).toDateString() === day.toDateString());
          if (!daySlots.length) return null;
          return (
            <div key={day.toISOString()} class="day">
              <h3>{fmtDate(day)}</h3>
              <ul class="slot-list">
                {daySlots.map((s) => (
                  <li key={s.id} class="card slot" data-testid="slot">
                    <p class="row wrap">
                      <strong>
                        {fmtTime(s.startsAt)}–{fmtTime(s.endsAt)}
                      </strong>
                      {s.kinds.map((k) => (
                        <span key={k} class="tag">
                          {t(`kind_${k}`)}
                        </span>
                      ))}
                    </p>
                    <p class="hint">
                      {t('withStaff', { name: s.staff.displayName })}
                      {s.location ? ` · ${t('place', { place: s.location })}` : ''}
                    </p>
                    {open === s.id ? (
                      <BookForm
                        slot={s}
                        onDone={(text) => {
                          setOpen(null);
                          setStatus({ text, kind: 'ok' });
                          void loadBookings();
                          void loadSlots();
                        }}
                        onCancel={() => setOpen(null)}
                      />
                    ) : (
                      <button type="button" class="primary small" onClick={() => setOpen(s.id)}>
                        {t('book')}
                      </button>
                    )}
                  </li>
                ))}
              </ul>
            </div>
          );
        })}
    </section>
  );
}

function BookForm(props: { slot: Slot; onDone: (text: string) => void; onCancel: () => void }) {
  const { slot } = props;
  const [kind, setKind] = useState(slot.kinds[0] ?? 'office');
  const [address, setAddress] = useState('');
  const [note, setNote] = useState('');
  const [error, setError] = useState<string | null>(null);
  const id = `book-${slot.id}`;
  return (
    <form
      class="inline-form"
      onSubmit={async (e) => {
        e.preventDefault();
        setError(null);
        try {
          await api('POST', '/api/bookings', {
            slotId: slot.id,
            kind,
            ...(note.trim() ? { note: note.trim() } : {}),
            ...(kind === 'visit' ? { visitAddress: address.trim() } : {}),
          });
          props.onDone(t('bookingRequested'));
        } catch (err) {
          setError(err instanceof ApiError && err.code === 'CONFLICT' ? t('slotTaken') : errText(err));
        }
      }}
    >
      <fieldset>
        <legend>{t('bookingKind')}</legend>
        {slot.kinds.map((k) => (
          <div class="check" key={k}>
            <input type="radio" id={`${id}-${k}`} name={`${id}-kind`} value={k} checked={kind === k} onChange={() => setKind(k)} />
            <label for={`${id}-${k}`}>{t(`kind_${k}`)}</label>
          </div>
        ))}
      </fieldset>
      {kind === 'visit' && (
        <div class="field">
          <label for={`${id}-address`}>{t('visitAddress')}</label>
          <textarea id={`${id}-address`} required maxLength={300} rows={2} aria-describedby={`${id}-address-hint`} autoComplete="street-address" value={address} onInput={(e) => setAddress(e.currentTarget.value)} />
          <p class="hint" id={`${id}-address-hint`}>
            {t('visitAddressHint')}
          </p>
        </div>
      )}
      <div class="field">
        <label for={`${id}-note`}>
          {t('bookingNote')} <span class="hint">{t('optional')}</span>
        </label>
        <textarea id={`${id}-note`} maxLength={1000} rows={2} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
      </div>
      {error && <Status kind="error" text={error} />}
      <FormActions submit={t('book')} submitClass="primary" onCancel={props.onCancel} />
    </form>
  );
}
