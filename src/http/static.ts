import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fp from 'fastify-plugin';
import fastifyStatic from '@fastify/static';
import { notFound } from '../errors.js';

/** The repository's `web/dist` folder, found by walking up to the package root (from src/http or dist/src/http). */
export function webDistFolder(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'web'))) return path.join(dir, 'web', 'dist');
    dir = path.dirname(dir);
  }
  return path.resolve('web', 'dist');
}

/** Paths the SPA never answers: they belong to the API, Socket.IO or the API docs. */
const RESERVED = /^\/(api|socket\.io|docs)(\/|$)/;

const NOT_BUILT_PAGE = `<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>Engawa</title></head>
<body style="font-family:sans-serif;max-width:40rem;margin:3rem auto;line-height:1.7">
<h1>縁側 Engawa</h1><p>The web app has not been built yet. Run <code>npm run build:web</code> (or <code>npm run build</code>) and reload.</p>
<p>ウェブアプリがまだビルドされていません。<code>npm run build:web</code> を実行してから再読み込みしてください。</p></body></html>`;

/** Serves the built SPA (web/dist) at / with a fallback to index.html for client-side routes. */
export const staticPlugin = fp(
  async (app, opts: { root?: string }) => {
    const root = opts.root ?? webDistFolder();
    await app.register(fastifyStatic, { root, serve: false });

    const fileIn = (urlPath: string): string | undefined => {
      let decoded: string;
      try {
        decoded = decodeURIComponent(urlPath);
      } catch {
        return undefined;
      }
      if (decoded.includes('\0')) return undefined;
      const full = path.resolve(root, '.' + decoded);
      if (!full.startsWith(root + path.sep)) return undefined;
      try {
        return statSync(full).isFile() ? path.relative(root, full) : undefined;
      } catch {
        return undefined;
      }
    };

    app.get('/*', { schema: { hide: true } }, async (request, reply) => {
      const urlPath = request.url.split('?')[0] ?? '/';
      if (RESERVED.test(urlPath)) throw notFound();
      const file = urlPath === '/' ? undefined : fileIn(urlPath);
      if (file) {
        // Vite names assets by content hash: they never change, so browsers may keep them.
        const hashed = file.startsWith('assets' + path.sep);
        return reply.sendFile(file, { cacheControl: true, maxAge: hashed ? '365d' : 0, immutable: hashed });
      }
      const acceptsHtml = urlPath === '/' || (request.headers.accept ?? '').includes('text/html');
      if (!acceptsHtml || path.extname(urlPath) !== '') throw notFound();
      if (!existsSync(path.join(root, 'index.html'))) {
        return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(NOT_BUILT_PAGE);
      }
      return reply.header('cache-control', 'no-cache').sendFile('index.html', { cacheControl: false });
    });
  },
  { name: 'engawa-static' },
);
