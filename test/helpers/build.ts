import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SERVER_MAIN = path.join(ROOT, 'dist', 'src', 'main.js');
const WEB_INDEX = path.join(ROOT, 'web', 'dist', 'index.html');

function newest(p: string): number {
  if (!existsSync(p)) return 0;
  const s = statSync(p);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(s.mtimeMs, ...readdirSync(p).map((f) => newest(path.join(p, f))));
}

const mtime = (file: string) => (existsSync(file) ? statSync(file).mtimeMs : 0);

/**
 * Builds what tests run as real processes or serve to Chromium — the server into dist/ and the SPA
 * into web/dist — when missing or older than their sources. Called once per run from the global
 * setup, before any test file starts, so no two test files ever build (or serve a half-built tree)
 * at the same time.
 */
export function buildIfStale(): void {
  const serverStale = mtime(SERVER_MAIN) < Math.max(newest(path.join(ROOT, 'src')), newest(path.join(ROOT, 'tsconfig.json')));
  const webStale = mtime(WEB_INDEX) < Math.max(...['web/src', 'web/index.html', 'web/vite.config.ts'].map((p) => newest(path.join(ROOT, p))));
  const script = serverStale && webStale ? 'build' : serverStale ? 'build:server' : webStale ? 'build:web' : undefined;
  if (!script) return;
  const r = spawnSync('npm', ['run', script], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0 || !existsSync(SERVER_MAIN) || !existsSync(WEB_INDEX)) {
    throw new Error(`npm run ${script} failed:\n${r.stdout}\n${r.stderr}`);
  }
}
