import { ApiError } from '../api';
import { t } from '../i18n';

/** A calm sentence for an API error; the server's own message is used only for validation details. */
export function errText(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === 'RATE_LIMITED') return t('tooMany');
    if (err.code === 'VALIDATION' && err.details?.filter) return t('blockedWord');
    if (err.code === 'VALIDATION' && Array.isArray(err.details?.fields)) {
      return err.details.fields.map((f: { field: string; message: string }) => `${f.field}: ${f.message}`).join(' / ');
    }
    if (err.code === 'LOCKED' || err.code === 'CONFLICT' || err.code === 'FORBIDDEN') return err.message || t('errorGeneric');
  }
  return t('errorGeneric');
}
