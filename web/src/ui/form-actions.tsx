import type { ComponentChildren } from 'preact';
import { t } from '../i18n';

/** A form's submit button with a quiet "cancel" beside it (the row every inline form ends with). */
export function FormActions(props: {
  submit: ComponentChildren;
  /** The submit button's class, e.g. `primary small` or `danger small`. */
  submitClass: string;
  disabled?: boolean;
  small?: boolean;
  onCancel: () => void;
}) {
  return (
    <p class="row">
      <button type="submit" class={props.submitClass} disabled={props.disabled}>
        {props.submit}
      </button>
      <button type="button" class={props.small ? 'quiet small' : 'quiet'} onClick={props.onCancel}>
        {t('cancel')}
      </button>
    </p>
  );
}
