import { useEffect, useState } from 'preact/hooks';
import { api, session } from '../api';
import { fmtDateTime, fmtTime, t } from '../i18n';
import { onEvent } from '../realtime';
import { Status } from '../ui/notices';
import { errText } from '../ui/errors';
import type { Booking, Slot } from '../types';
import { FormActions } from '../ui/form-actions';

const pad = (n: number) => String(n).padStart(2, '0');
const localDate = (d: Date) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;

/** Staff: their consultation slots, requests to confirm or decline, confirmed bookings and the calendar feed. */
export function StaffBookingScreen() {
  const me = session.user!;
  const [slots, setSlots] = useState<Slot[]>([]);
  const [bookings, setBookings] = useState<Booking[]>([]);
  const [status, setStatus] = useState<{ text: string; kind: 'ok' | 'error' } | null>(null);
  const [feed, setFeed] = useState<string | null>(null);

  const loadSlots = () => {
    const from = new Date();
    const to = new Date(Date.now() + 90 * 86400_000);
    return api<{ slots: Slot[] }>('GET', `/api/slots?from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`)
      .then((r) => setSlots(r.slots.filter((s) => s.staff.id === me.id)))
      .catch((e) => setStatus({ text: errText(e), kind: 'error' }));
  };
  const loadBookings = () => api<{ bookings: Booking[] }>('GET', '/api/bookings').then((r) => setBookings(r.bookings)).catch(() => undefined);
  const reload = () => Promise.all([loadSlots(), loadBookings()]);

  useEffect(() => {
    void reload();
    return onEvent('booking:updated', () => void reload());
  }, []);

  const act = async (fn: () => Promise<unknown>, ok = t('saved')) => {
    setStatus(null);
    try {
      await fn();
      setStatus({ text: ok, kind: 'ok' });
      await reload();
      return true;
    } catch (e) {
      setStatus({ text: errText(e), kind: 'error' });
      return false;
    }
  };

  const requests = bookings.filter((b) => b.status === 'requested');
  const confirmed = bookings.filter((b) => b.status === 'confirmed');

  return (
    <section>
      <h1>{t('staffTitle')}</h1>
      {status && <Status kind={status.kind} text={status.text} />}

      <h2>{t('requests')}</h2>
      {requests.length === 0 && <p class="empty">{t('noRequests')}</p>}
      <ul class="booking-list">
        {requests.map((b) => (
          <RequestItem key={b.id} booking={b} act={act} />
        ))}
      </ul>

      <h2>{t('upcoming')}</h2>
      {confirmed.length === 0 && <p class="empty">{t('noBookings')}</p>}
      <ul class="booking-list">
        {confirmed.map((b) => (
          <li key={b.id} class="card booking" data-testid="confirmed-booking">
            <BookingSummary booking={b} />
            <button type="button" class="quiet small" onClick={() => void act(() => api('POST', `/api/bookings/${b.id}/cancel`, {}))}>
              {t('cancelBooking')}
            </button>
          </li>
        ))}
      </ul>

      <h2>{t('mySlots')}</h2>
      <NewSlot act={act} />
      <ul class="slot-list">
        {slots.map((s) => (
          <li key={s.id} class="card slot row wrap">
            <span>
              <strong>{fmtDateTime(s.startsAt)}</strong>–{fmtTime(s.endsAt)}
            </span>
            {s.kinds.map((k) => (
              <span key={k} class="tag">
                {t(`kind_${k}`)}
              </span>
            ))}
            {s.booked && <span class="tag status-confirmed">{t('booked')}</span>}
            {s.location && <span class="hint">{t('place', { place: s.location })}</span>}
            {!s.booked && (
              <button type="button" class="quiet small" onClick={() => void act(() => api('DELETE', `/api/slots/${s.id}`))}>
                {t('deleteSlot')}
              </button>
            )}
          </li>
        ))}
      </ul>

      <h2>{t('calendarFeed')}</h2>
      <p class="hint">{t('calendarHint')}</p>
      {feed && (
        <p>
          <input class="wide mono" readOnly aria-label={t('calendarFeed')} value={feed} onFocus={(e) => e.currentTarget.select()} />
        </p>
      )}
      <button
        type="button"
        class="quiet"
        onClick={() =>
          void api<{ token: string; url: string }>('POST', '/api/me/calendar-token')
            .then((r) => setFeed(new URL(r.url, location.origin).toString()))
            .catch((e) => setStatus({ text: errText(e), kind: 'error' }))
        }
      >
        {t('calendarCreate')}
      </button>
    </section>
  );
}

function BookingSummary(props: { booking: Booking }) {
  const b = props.booking;
  return (
    <>
      <p class="row wrap">
        <strong>{fmtDateTime(b.startsAt)}</strong>
        <span class="tag">{t(`kind_${b.kind}`)}</span>
        <span class={`tag status-${b.status}`}>{t(`status_${b.status}`)}</span>
      </p>
      <p>{t('member', { name: `${b.member.displayName} (@${b.member.handle})` })}</p>
      {b.visitAddress && <p class="address">{b.visitAddress}</p>}
      {b.note && <p class="hint">{b.note}</p>}
    </>
  );
}

function RequestItem(props: { booking: Booking; act: (fn: () => Promise<unknown>) => Promise<boolean> }) {
  const b = props.booking;
  const [declining, setDeclining] = useState(false);
  const [reason, setReason] = useState('');
  return (
    <li class="card booking" data-testid="booking-request">
      <BookingSummary booking={b} />
      {declining ? (
        <form
          class="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            void props.act(() => api('POST', `/api/bookings/${b.id}/decline`, { reason: reason.trim() }));
          }}
        >
          <div class="field">
            <label for={`decline-${b.id}`}>{t('declineReason')}</label>
            <input id={`decline-${b.id}`} required maxLength={500} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
          </div>
          <FormActions submit={t('decline')} submitClass="danger small" small onCancel={() => setDeclining(false)} />
        </form>
      ) : (
        <p class="row">
          <button type="button" class="primary" onClick={() => void props.act(() => api('POST', `/api/bookings/${b.id}/confirm`, {}))}>
            {t('confirm')}
          </button>
          <button type="button" class="quiet" onClick={() => setDeclining(true)}>
            {t('decline')}
          </button>
        </p>
      )}
    </li>
  );
}

function NewSlot(props: { act: (fn: () => Promise<unknown>) => Promise<boolean> }) {
  const tomorrow = new Date(Date.now() + 86400_000);
  const [date, setDate] = useState(localDate(tomorrow));
  const [time, setTime] = useState('14:00');
  const [duration, setDuration] = useState(60);
  const [kinds, setKinds] = useState<('office' | 'visit')[]>(['office']);
  const [location, setLocation] = useState('');
  const toggle = (k: 'office' | 'visit', on: boolean) => setKinds((cur) => (on ? [...cur.filter((x) => x !== k), k] : cur.filter((x) => x !== k)));
  return (
    <details class="card fold">
      <summary>{t('newSlot')}</summary>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const start = new Date(`${date}T${time}`);
          const end = new Date(start.getTime() + duration * 60_000);
          void props.act(() =>
            api('POST', '/api/slots', { startsAt: start.toISOString(), endsAt: end.toISOString(), kinds, ...(location.trim() ? { location: location.trim() } : {}) }),
          );
        }}
      >
        <div class="grid2">
          <div class="field">
            <label for="slot-date">{t('date')}</label>
            <input id="slot-date" type="date" required value={date} onInput={(e) => setDate(e.currentTarget.value)} />
          </div>
          <div class="field">
            <label for="slot-time">{t('startTime')}</label>
            <input id="slot-time" type="time" required step={900} value={time} onInput={(e) => setTime(e.currentTarget.value)} />
          </div>
          <div class="field">
            <label for="slot-duration">{t('duration')}</label>
            <input id="slot-duration" type="number" min={15} max={240} step={15} required value={duration} onInput={(e) => setDuration(Number(e.currentTarget.value))} />
          </div>
          <div class="field">
            <label for="slot-location">
              {t('location')} <span class="hint">{t('optional')}</span>
            </label>
            <input id="slot-location" maxLength={200} value={location} onInput={(e) => setLocation(e.currentTarget.value)} />
          </div>
        </div>
        <fieldset>
          <legend>{t('kinds')}</legend>
          {(['office', 'visit'] as const).map((k) => (
            <div class="check" key={k}>
              <input id={`slot-kind-${k}`} type="checkbox" checked={kinds.includes(k)} onChange={(e) => toggle(k, e.currentTarget.checked)} />
              <label for={`slot-kind-${k}`}>{t(`kind_${k}`)}</label>
            </div>
          ))}
        </fieldset>
        <button type="submit" class="primary" disabled={kinds.length === 0}>
          {t('create')}
        </button>
      </form>
    </details>
  );
}
