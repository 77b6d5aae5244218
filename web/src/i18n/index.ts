import { ja, type Dict } from './ja';
import { en } from './en';

export type Lang = 'ja' | 'en';
export type Key = keyof Dict;
const dicts: Record<Lang, Dict> = { ja, en };
const KEY = 'engawa.lang';

let lang: Lang = (() => {
  try {
    return localStorage.getItem(KEY) === 'en' ? 'en' : 'ja';
  } catch {
    return 'ja';
  }
})();
document.documentElement.lang = lang;

export const getLang = () => lang;

export function setLang(next: Lang) {
  lang = next;
  document.documentElement.lang = next;
  try {
    localStorage.setItem(KEY, next);
  } catch {
    /* not stored: this tab only */
  }
}

/** The string for `key` in the current language, with `{name}` placeholders filled in. */
export function t(key: Key, vars?: Record<string, string | number>): string {
  let s = dicts[lang][key];
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.split(`{${k}}`).join(String(v));
  return s;
}

const locale = () => (lang === 'ja' ? 'ja-JP' : 'en-GB');
export const fmtTime = (iso: string) => new Date(iso).toLocaleTimeString(locale(), { hour: '2-digit', minute: '2-digit' });
export const fmtDateTime = (iso: string) =>
  new Date(iso).toLocaleString(locale(), { month: 'short', day: 'numeric', weekday: 'short', hour: '2-digit', minute: '2-digit' });
export const fmtDate = (d: Date) => d.toLocaleDateString(locale(), { month: 'long', day: 'numeric', weekday: 'short' });

/** "12 min", "3 h", "2 days" until `iso`. */
export function fmtLeft(iso: string): string {
  const ms = Math.max(0, new Date(iso).getTime() - Date.now());
  const min = Math.ceil(ms / 60_000);
  if (min < 60) return t('minutes', { n: min });
  const h = Math.round(min / 60);
  if (h < 48) return t('hours', { n: h });
  return t('days', { n: Math.round(h / 24) });
}
