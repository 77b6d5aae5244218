import { z } from 'zod';
import type { Config } from '../../config.js';

export const supportResourceSchema = z.strictObject({
  name: z.string().min(1).max(200),
  phone: z.string().min(1).max(50).optional(),
  url: z.url({ protocol: /^https?$/ }).optional(),
  hours: z.string().min(1).max(200).optional(),
});
export type SupportResource = z.infer<typeof supportResourceSchema>;

const resourcesEnvSchema = z.array(supportResourceSchema).min(1).max(20);

/**
 * Japanese national lines, sent to a writer whose message matched a crisis filter. The operator
 * must check these before going live (numbers and hours change) and replace them with local ones
 * through SUPPORT_RESOURCES; see docs/moderation.md.
 */
export const DEFAULT_SUPPORT_RESOURCES: SupportResource[] = [
  { name: 'よりそいホットライン', phone: '0120-279-338', hours: '24時間・年中無休', url: 'https://www.since2011.net/yorisoi/' },
  { name: 'こころの健康相談統一ダイヤル', phone: '0570-064-556', hours: '都道府県により異なります' },
  { name: 'いのちの電話', phone: '0570-783-556', hours: '10:00〜22:00（地域により異なります）', url: 'https://www.inochinodenwa.org/' },
  { name: '#いのちSOS', phone: '0120-061-338', hours: '受付時間は公式サイトでご確認ください', url: 'https://www.lifelink.or.jp/inochisos/' },
];

export class SupportResourcesError extends Error {}

/**
 * The resources in force: SUPPORT_RESOURCES (a JSON array of {name, phone?, url?, hours?}) when
 * set, the defaults otherwise. Throws a SupportResourcesError naming the problem when the variable
 * is not valid JSON or not of that shape; the moderation plugin calls this at start so a bad value
 * stops the server instead of failing silently during a crisis.
 */
export function supportResources(config: Pick<Config, 'SUPPORT_RESOURCES'>): SupportResource[] {
  const raw = config.SUPPORT_RESOURCES;
  if (raw === undefined) return DEFAULT_SUPPORT_RESOURCES;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new SupportResourcesError('SUPPORT_RESOURCES is not valid JSON (expected an array of {name, phone?, url?, hours?})');
  }
  const parsed = resourcesEnvSchema.safeParse(json);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  SUPPORT_RESOURCES.${i.path.join('.')}: ${i.message}`);
    throw new SupportResourcesError(`Invalid SUPPORT_RESOURCES:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
