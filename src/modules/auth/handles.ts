/**
 * Handles: letters of any script (Japanese included), digits, `_ . -`; 2..32 characters after NFKC
 * normalisation. Uniqueness is on `handle_key`: the NFKC form lower-cased, so `Ｔａｒｏ`, `TARO` and
 * `taro` are one handle.
 */
export const HANDLE_PATTERN = /^(?=[\p{L}\p{Nd}_.-])[\p{L}\p{M}\p{Nd}_.-]{2,32}$/u;

export const normaliseHandle = (handle: string): string => handle.normalize('NFKC');

export const handleKey = (handle: string): string => normaliseHandle(handle).toLowerCase();

export const isValidHandle = (handle: string): boolean => HANDLE_PATTERN.test(normaliseHandle(handle));
