/** HTTP client for /api: access token in memory, refresh token in localStorage, rotation before expiry and once on 401. */
import type { User } from './types';

const REFRESH_KEY = 'engawa.refreshToken';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: any,
  ) {
    super(message);
  }
}

type Listener = () => void;

let accessToken: string | null = null;
let currentUser: User | null = null;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
let refreshing: Promise<boolean> | null = null;
const listeners = new Set<Listener>();
const tokenListeners = new Set<(token: string) => void>();

export const session = {
  get user() {
    return currentUser;
  },
  get token() {
    return accessToken;
  },
  subscribe(fn: Listener) {
    listeners.add(fn);
    return () => void listeners.delete(fn);
  },
  /** Called with each new access token (the socket uses it for its next handshake). */
  onToken(fn: (token: string) => void) {
    tokenListeners.add(fn);
    return () => void tokenListeners.delete(fn);
  },
};

function emit() {
  for (const fn of listeners) fn();
}

function readRefresh(): string | null {
  try {
    return localStorage.getItem(REFRESH_KEY);
  } catch {
    return null;
  }
}

function writeRefresh(token: string | null) {
  try {
    if (token) localStorage.setItem(REFRESH_KEY, token);
    else localStorage.removeItem(REFRESH_KEY);
  } catch {
    /* private mode: stay signed in for this tab only */
  }
}

function tokenExpiry(token: string): number | undefined {
  try {
    const payload = JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')));
    return typeof payload.exp === 'number' ? payload.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

function setAccess(token: string) {
  accessToken = token;
  clearTimeout(refreshTimer);
  const exp = tokenExpiry(token);
  // Refresh a minute before expiry (at least 10 s from now).
  const inMs = exp ? Math.max(10_000, exp - Date.now() - 60_000) : 10 * 60_000;
  refreshTimer = setTimeout(() => void refresh(), inMs);
  for (const fn of tokenListeners) fn(token);
}

async function rawFetch(method: string, path: string, body?: unknown, token?: string | null): Promise<Response> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  return fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

async function parse<T>(res: Response): Promise<T> {
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  const data = text ? JSON.parse(text) : undefined;
  if (!res.ok) {
    const e = data?.error ?? {};
    throw new ApiError(res.status, e.code ?? 'INTERNAL', e.message ?? res.statusText, e.details);
  }
  return data as T;
}

/**
 * Rotates the refresh token. Tabs take turns through a Web Lock and re-read the stored token inside it,
 * so two tabs never present the same (already rotated) token, which would revoke the whole family.
 */
export function refresh(): Promise<boolean> {
  if (refreshing) return refreshing;
  const run = async (): Promise<boolean> => {
    const token = readRefresh();
    if (!token) return false;
    let res: Response;
    try {
      res = await rawFetch('POST', '/api/auth/refresh', { refreshToken: token });
    } catch {
      return false; // offline: keep the stored token and try again later
    }
    if (!res.ok) {
      if (res.status === 401) signedOut();
      return false;
    }
    const data = (await res.json()) as { accessToken: string; refreshToken: string };
    writeRefresh(data.refreshToken);
    setAccess(data.accessToken);
    return true;
  };
  const locks = (navigator as any).locks;
  refreshing = (locks ? locks.request('engawa-refresh', run) : run()).finally(() => {
    refreshing = null;
  }) as Promise<boolean>;
  return refreshing;
}

function signedOut() {
  accessToken = null;
  currentUser = null;
  clearTimeout(refreshTimer);
  writeRefresh(null);
  emit();
}

/** Calls the API; on 401 refreshes once and retries. */
export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  let res = await rawFetch(method, path, body, accessToken);
  if (res.status === 401 && readRefresh() && !path.startsWith('/api/auth/')) {
    if (await refresh()) res = await rawFetch(method, path, body, accessToken);
  }
  return parse<T>(res);
}

export async function signIn(path: '/api/auth/login' | '/api/auth/register', body: unknown): Promise<User> {
  const data = await parse<{ user: User; accessToken: string; refreshToken: string }>(await rawFetch('POST', path, body));
  writeRefresh(data.refreshToken);
  setAccess(data.accessToken);
  currentUser = data.user;
  emit();
  return data.user;
}

/** At start: a stored refresh token signs the user in again. */
export async function resume(): Promise<User | null> {
  if (!readRefresh()) return null;
  if (!(await refresh())) return null;
  try {
    currentUser = (await api<{ user: User }>('GET', '/api/me')).user;
  } catch {
    return null;
  }
  emit();
  return currentUser;
}

export async function signOut(): Promise<void> {
  const token = readRefresh();
  if (token) await rawFetch('POST', '/api/auth/logout', { refreshToken: token }).catch(() => undefined);
  signedOut();
}

export function setUser(user: User) {
  currentUser = user;
  emit();
}

// Signing out in another tab signs this one out too.
window.addEventListener('storage', (e) => {
  if (e.key === REFRESH_KEY && !e.newValue && currentUser) signedOut();
});

/** A v4 UUID that works outside secure contexts too (crypto.randomUUID needs https). */
export function uuid(): string {
  if (typeof crypto.randomUUID === 'function' && window.isSecureContext) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
