import { z } from 'zod';

const rate = z
  .string()
  .regex(/^\d+\/\d+$/, 'expected COUNT/SECONDS, e.g. 10/10')
  .transform((s) => {
    const [count, seconds] = s.split('/').map(Number);
    return { count, seconds };
  })
  .refine((r) => r.count >= 1 && r.seconds >= 1, 'COUNT and SECONDS must be at least 1');

const optionalString = z
  .string()
  .optional()
  .transform((s) => (s === undefined || s.trim() === '' ? undefined : s));

const bool = z
  .enum(['true', 'false', '1', '0', ''])
  .optional()
  .transform((v) => v === 'true' || v === '1');

const origins = z
  .string()
  .optional()
  .transform((s) => (s ? s.split(',').map((o) => o.trim()).filter(Boolean) : []));

export const configSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: optionalString.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
  DATA_DIR: z.string().min(1).default('./data'),
  REDIS_URL: optionalString.pipe(z.url({ protocol: /^rediss?$/ }).optional()),
  SOCKET_ADAPTER: z.enum(['redis', 'postgres', 'none']).optional(),
  JWT_SECRET: optionalString.pipe(z.string().min(32, 'JWT_SECRET must be at least 32 characters').optional()),
  DATA_KEY: optionalString.pipe(
    z
      .string()
      .regex(/^[0-9a-fA-F]{64}$|^[A-Za-z0-9+/]{43}=$/, 'DATA_KEY must be 32 bytes as 64 hex characters or base64')
      .optional(),
  ),
  BOOTSTRAP_ADMIN_HANDLE: optionalString,
  BOOTSTRAP_ADMIN_PASSWORD: optionalString.pipe(z.string().min(8, 'BOOTSTRAP_ADMIN_PASSWORD must be at least 8 characters').optional()),
  AUTH_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(20),
  MESSAGE_RATE_LIMIT: rate.default({ count: 10, seconds: 10 }),
  /** Send transactions running at once on this node (group commit: each takes every send queued meanwhile). */
  MESSAGE_SEND_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(2),
  /** Sends waiting for a transaction on this node; beyond this a send is refused at once with 429. */
  MESSAGE_SEND_QUEUE: z.coerce.number().int().min(1).max(100_000).default(2_000),
  CALL_TTL_MINUTES: z.coerce.number().int().min(1).max(24 * 60).default(180),
  /** Test-only: a call lifetime in seconds, overriding CALL_TTL_MINUTES when set. */
  CALL_TTL_SECONDS: z.coerce.number().int().min(1).max(24 * 60 * 60).optional(),
  JITSI_BASE_URL: z.url({ protocol: /^https?$/ }).default('https://meet.jit.si'),
  JITSI_APP_ID: optionalString,
  JITSI_APP_SECRET: optionalString,
  ADDRESS_RETENTION_DAYS: z.coerce.number().int().min(0).max(3650).default(30),
  ALLOWED_ORIGINS: origins,
  TRUST_PROXY: bool,
  /** When set, GET /metrics needs `Authorization: Bearer <METRICS_TOKEN>`. */
  METRICS_TOKEN: optionalString,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SUPPORT_RESOURCES: optionalString,
});

export type RawConfig = z.infer<typeof configSchema>;

export interface Config extends Omit<RawConfig, 'JWT_SECRET' | 'DATA_KEY'> {
  /** Resolved: from the environment, or generated into DATA_DIR in embedded mode. */
  JWT_SECRET: string;
  /** 32-byte AES-256-GCM key. */
  DATA_KEY: Buffer;
  SOCKET_ADAPTER: 'redis' | 'postgres' | 'none';
}

export class ConfigError extends Error {}

/** Parses the environment once. Throws a ConfigError naming every bad variable. */
export function parseEnv(env: NodeJS.ProcessEnv): RawConfig {
  const result = configSchema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return result.data;
}
