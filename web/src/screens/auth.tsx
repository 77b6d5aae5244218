import { useState } from 'preact/hooks';
import { ApiError, signIn } from '../api';
import { t } from '../i18n';
import { Link, navigate } from '../router';
import { Status } from '../ui/notices';
import { errText } from '../ui/errors';

export function AuthScreen(props: { mode: 'login' | 'register'; code: string }) {
  const register = props.mode === 'register';
  const [code, setCode] = useState(props.code);
  const [handle, setHandle] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (register) {
        await signIn('/api/auth/register', { inviteCode: code.trim(), handle: handle.trim(), password, ...(displayName.trim() ? { displayName: displayName.trim() } : {}) });
      } else {
        await signIn('/api/auth/login', { handle: handle.trim(), password });
      }
      navigate('/', true);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'UNAUTHENTICATED') setError(register ? t('badInvite') : t('badLogin'));
      else if (err instanceof ApiError && err.code === 'CONFLICT') setError(t('handleTaken'));
      else if (err instanceof ApiError && err.code === 'LOCKED') setError(t('suspended'));
      else setError(errText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card narrow auth">
      <p class="tagline">{t('appTagline')}</p>
      <h1>{register ? t('signUpTitle') : t('signInTitle')}</h1>
      <form onSubmit={submit}>
        {register && (
          <div class="field">
            <label for="invite-code">{t('inviteCode')}</label>
            <input id="invite-code" name="inviteCode" required autoComplete="off" value={code} onInput={(e) => setCode(e.currentTarget.value)} />
          </div>
        )}
        <div class="field">
          <label for="handle">{t('handle')}</label>
          <input
            id="handle"
            name="username"
            required
            minLength={2}
            maxLength={32}
            autoComplete="username"
            autoCapitalize="none"
            aria-describedby={register ? 'handle-hint' : undefined}
            value={handle}
            onInput={(e) => setHandle(e.currentTarget.value)}
          />
          {register && (
            <p class="hint" id="handle-hint">
              {t('handleHint')}
            </p>
          )}
        </div>
        {register && (
          <div class="field">
            <label for="display-name">
              {t('displayName')} <span class="hint">{t('optional')}</span>
            </label>
            <input id="display-name" name="displayName" maxLength={64} aria-describedby="display-hint" value={displayName} onInput={(e) => setDisplayName(e.currentTarget.value)} />
            <p class="hint" id="display-hint">
              {t('displayNameHint')}
            </p>
          </div>
        )}
        <div class="field">
          <label for="password">{t('password')}</label>
          <input
            id="password"
            name="password"
            type="password"
            required
            minLength={register ? 8 : 1}
            autoComplete={register ? 'new-password' : 'current-password'}
            aria-describedby={register ? 'password-hint' : undefined}
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
          {register && (
            <p class="hint" id="password-hint">
              {t('passwordHint')}
            </p>
          )}
        </div>
        {error && <Status kind="error" text={error} />}
        <button type="submit" class="primary wide" disabled={busy}>
          {register ? t('signUpButton') : t('signInButton')}
        </button>
      </form>
      <p class="switch">
        {register ? t('haveAccount') : t('needAccount')} <Link href={register ? '/login' : '/signup'}>{register ? t('goSignIn') : t('goSignUp')}</Link>
      </p>
    </section>
  );
}
