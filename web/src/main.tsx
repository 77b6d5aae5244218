import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './styles.css';
import { resume, session, signOut } from './api';
import { getLang, setLang, t } from './i18n';
import { connectSocket, disconnectSocket, onEvent } from './realtime';
import { Link, navigate, usePath } from './router';
import { AuthScreen } from './screens/auth';
import { RoomsScreen } from './screens/rooms';
import { RoomScreen } from './screens/room';
import { ModerationScreen } from './screens/moderation';
import { AuditScreen } from './screens/audit';
import { BookingScreen } from './screens/booking';
import { StaffBookingScreen } from './screens/staff-booking';
import { InvitesScreen } from './screens/invites';
import { HelpPanel } from './ui/notices';
import type { Role } from './types';

const rank: Record<Role, number> = { member: 0, family: 0, moderator: 1, staff: 2, admin: 3 };
export const atLeast = (role: Role | undefined, min: Role) => !!role && rank[role] >= rank[min];

function useSession() {
  const [, setTick] = useState(0);
  useEffect(() => session.subscribe(() => setTick((n) => n + 1)), []);
  return session.user;
}

function Shell(props: { onLang: () => void }) {
  const user = useSession();
  const path = usePath();
  const [ready, setReady] = useState(false);
  const [offline, setOffline] = useState(false);
  const [alert, setAlert] = useState<string | null>(null);

  useEffect(() => {
    void resume().finally(() => setReady(true));
  }, []);

  useEffect(() => {
    if (!user) return;
    connectSocket();
    const offs = [
      onEvent('disconnected', () => setOffline(true)),
      onEvent('connected', () => setOffline(false)),
      onEvent('reconnected', () => setOffline(false)),
      onEvent('crisis:alert', () => setAlert(t('crisisAlert'))),
    ];
    return () => {
      offs.forEach((off) => off());
      disconnectSocket();
    };
  }, [user?.id]);

  if (!ready) return <p class="loading">{t('loading')}</p>;

  const invite = path.match(/^\/invite\/([^/]+)$/);
  if (!user) {
    return (
      <Frame onLang={props.onLang}>
        <AuthScreen mode={invite || path === '/signup' ? 'register' : 'login'} code={invite ? decodeURIComponent(invite[1]!) : ''} />
      </Frame>
    );
  }
  if (invite || path === '/login' || path === '/signup') {
    queueMicrotask(() => navigate('/', true));
    return null;
  }

  const room = path.match(/^\/rooms\/([0-9a-f-]{36})$/);
  let screen;
  if (path === '/' || path === '/rooms') screen = <RoomsScreen />;
  else if (room) screen = <RoomScreen key={room[1]} roomId={room[1]!} />;
  else if (path === '/bookings') screen = <BookingScreen />;
  else if (path === '/moderation') screen = <ModerationScreen />;
  else if (path === '/staff/bookings' && atLeast(user.role, 'staff')) screen = <StaffBookingScreen />;
  else if (path === '/invites' && atLeast(user.role, 'staff')) screen = <InvitesScreen />;
  else if (path === '/audit' && atLeast(user.role, 'staff')) screen = <AuditScreen />;
  else screen = <p>{t('notFound')}</p>;

  const nav: Array<[string, string]> = [['/', t('navRooms')]];
  if (atLeast(user.role, 'staff')) nav.push(['/staff/bookings', t('navStaffBookings')]);
  else nav.push(['/bookings', t('navBookings')]);
  nav.push(['/moderation', t('navModeration')]);
  if (atLeast(user.role, 'staff')) nav.push(['/invites', t('navInvites')], ['/audit', t('navAudit')]);
  const current = (href: string) => (href === '/' ? path === '/' || path.startsWith('/rooms') : path === href);

  return (
    <Frame
      onLang={props.onLang}
      nav={
        <nav aria-label={t('appName')}>
          <ul>
            {nav.map(([href, label]) => (
              <li key={href}>
                <Link href={href} aria-current={current(href) ? 'page' : undefined}>
                  {label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      }
      account={
        <button type="button" class="quiet" onClick={() => void signOut().then(() => navigate('/', true))}>
          {t('signOut')}
        </button>
      }
    >
      {offline && (
        <p class="banner quiet-banner" role="status">
          {t('offline')}
        </p>
      )}
      {alert && (
        <p class="banner urgent-banner" role="alert">
          <Link href="/moderation">{alert}</Link>{' '}
          <button type="button" class="quiet small" onClick={() => setAlert(null)}>
            {t('close')}
          </button>
        </p>
      )}
      <HelpPanel />
      {screen}
    </Frame>
  );
}

function Frame(props: { onLang: () => void; nav?: preact.ComponentChildren; account?: preact.ComponentChildren; children: preact.ComponentChildren }) {
  return (
    <>
      <a class="skip" href="#main">
        {t('skipToContent')}
      </a>
      <header class="top">
        <div class="brand">
          <Link href="/">
            <span lang="ja">縁側</span>
            <span class="brand-sub">Engawa</span>
          </Link>
        </div>
        {props.nav}
        <div class="top-actions">
          <button type="button" class="quiet" lang={getLang() === 'ja' ? 'en' : 'ja'} aria-label={t('languageLabel')} onClick={props.onLang}>
            {t('language')}
          </button>
          {props.account}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {props.children}
      </main>
    </>
  );
}

function App() {
  const [lang, setLangState] = useState(getLang());
  return (
    <Shell
      onLang={() => {
        const next = lang === 'ja' ? 'en' : 'ja';
        setLang(next);
        setLangState(next);
      }}
    />
  );
}

render(<App />, document.getElementById('app')!);
