import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, parseEnv, type Config, type RawConfig } from './config.js';

function decodeKey(value: string): Buffer {
  return /^[0-9a-fA-F]{64}$/.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64');
}

/** Reads a secret kept in the data folder, creating it (mode 0600) on first use. */
function secretFile(dataDir: string, name: string, make: () => string): string {
  const file = path.join(dataDir, 'secrets', name);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  // The data folder stays traversable (the embedded database may run as another user);
  // the secrets folder inside it does not.
  mkdirSync(dataDir, { recursive: true, mode: 0o755 });
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const value = make();
  writeFileSync(file, value + '\n', { mode: 0o600, flag: 'wx' });
  return value;
}

/**
 * Resolves the secrets: in external mode (DATABASE_URL set) JWT_SECRET and DATA_KEY are required;
 * in embedded mode a missing one is generated once into DATA_DIR/secrets and reused.
 */
export function resolveConfig(raw: RawConfig): Config {
  const embedded = !raw.DATABASE_URL;
  const missing = (['JWT_SECRET', 'DATA_KEY'] as const).filter((k) => !raw[k]);
  if (!embedded && missing.length > 0) {
    throw new ConfigError(`Invalid configuration:\n${missing.map((k) => `  ${k}: required when DATABASE_URL is set`).join('\n')}`);
  }
  const jwtSecret = raw.JWT_SECRET ?? secretFile(raw.DATA_DIR, 'jwt-secret', () => randomBytes(48).toString('base64url'));
  const dataKey = raw.DATA_KEY ?? secretFile(raw.DATA_DIR, 'data-key', () => randomBytes(32).toString('hex'));
  const adapter = raw.SOCKET_ADAPTER ?? (raw.REDIS_URL ? 'redis' : 'none');
  if (adapter === 'redis' && !raw.REDIS_URL) {
    throw new ConfigError('Invalid configuration:\n  SOCKET_ADAPTER: redis needs REDIS_URL');
  }
  if (raw.JITSI_APP_SECRET && !raw.JITSI_APP_ID) {
    throw new ConfigError('Invalid configuration:\n  JITSI_APP_ID: required when JITSI_APP_SECRET is set (it becomes the join token\'s issuer)');
  }
  return { ...raw, JWT_SECRET: jwtSecret, DATA_KEY: decodeKey(dataKey), SOCKET_ADAPTER: adapter };
}

/** For tests and tools: a complete config from a partial environment. */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  return resolveConfig(parseEnv(env));
}
