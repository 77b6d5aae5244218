import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createClient } from 'redis';

const run = promisify(execFile);
export const DEFAULT_TEST_REDIS_URL = 'redis://127.0.0.1:6379';

async function answers(url: string): Promise<boolean> {
  const client = createClient({ url, socket: { reconnectStrategy: false, connectTimeout: 1_000 } });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    if (client.isOpen) client.destroy();
  }
}

/**
 * A Redis for tests: REDIS_URL when set, else redis://127.0.0.1:6379, starting a throwaway
 * `redis-server` there (no persistence) when nothing answers.
 */
export async function ensureRedis(): Promise<string> {
  const url = process.env.REDIS_URL || DEFAULT_TEST_REDIS_URL;
  if (await answers(url)) return url;
  if (process.env.REDIS_URL) throw new Error(`REDIS_URL ${url} does not answer`);
  await run('redis-server', ['--daemonize', 'yes', '--bind', '127.0.0.1', '--port', '6379', '--save', '', '--appendonly', 'no']);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (await answers(url)) return url;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('redis-server did not start on 127.0.0.1:6379');
}
