/**
 * The text form that word filters are matched on, for both the filter's pattern and the message:
 * NFKC (full-width ↔ half-width Latin, digits, spaces and half-width katakana all fold to one form),
 * lower case, katakana folded to hiragana (so ｼﾆﾀｲ, シニタイ and しにたい are one word), and runs of
 * white space collapsed to one space.
 */
export function matchKey(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\u30a1-\u30f6]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) - 0x60))
    .replace(/\s+/gu, ' ')
    .trim();
}
