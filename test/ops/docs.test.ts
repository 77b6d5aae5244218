import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s.close();
});

/** `/api/rooms/:id` → `/api/rooms/{id}` as OpenAPI spells path parameters. */
const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

describe('GET /docs/json', () => {
  it('is an OpenAPI 3.1 document generated from the route schemas', async () => {
    const res = await s.app.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('Engawa API');
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('documents every registered /api route, with bearer auth except on the public ones', async () => {
    const doc = (await s.app.inject({ method: 'GET', url: '/docs/json' })).json();
    const apiRoutes = s.app.routeList.filter((r) => r.url.startsWith('/api/') && r.method !== 'HEAD' && !r.hidden);
    expect(apiRoutes.length).toBeGreaterThan(10); // the modules' routes are registered, so this checks something
    const missing = apiRoutes.filter((r) => !doc.paths?.[openApiPath(r.url)]?.[r.method.toLowerCase()]);
    expect(missing).toEqual([]);
    const publicRoutes = new Set(['/api/auth/register', '/api/auth/login', '/api/auth/refresh', '/api/bookings/calendar.ics']);
    for (const r of apiRoutes) {
      const op = doc.paths[openApiPath(r.url)][r.method.toLowerCase()];
      if (publicRoutes.has(r.url)) expect(op.security, `${r.method} ${r.url}`).toBeUndefined();
      else expect(op.security, `${r.method} ${r.url}`).toEqual([{ bearerAuth: [] }]);
    }
  });

  it('leaves out the operational and docs routes themselves', async () => {
    const doc = (await s.app.inject({ method: 'GET', url: '/docs/json' })).json();
    const paths = Object.keys(doc.paths ?? {});
    expect(paths.filter((p) => !p.startsWith('/api/'))).toEqual([]);
    expect(s.app.routeList.some((r) => r.url === '/metrics')).toBe(true);
  });
});

describe('GET /docs', () => {
  it('serves the Swagger UI with its assets from the same origin', async () => {
    const page = await s.app.inject({ method: 'GET', url: '/docs' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    const scripts = [...page.body.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]);
    const styles = [...page.body.matchAll(/<link rel="stylesheet" type="text\/css" href="([^"]+)"/g)].map((m) => m[1]);
    expect(scripts.length).toBeGreaterThan(0);
    // No inline script: the page works with script-src 'self'.
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    for (const asset of [...scripts, ...styles]) {
      expect(asset, 'assets are relative, so same-origin').not.toMatch(/^https?:/);
      const res = await s.app.inject({ method: 'GET', url: new URL(asset, `${s.url}/docs/`).pathname });
      expect(res.statusCode, asset).toBe(200);
    }
  });

  it('has its own CSP: inline styles allowed on /docs only, scripts never inline', async () => {
    const docs = await s.app.inject({ method: 'GET', url: '/docs' });
    const csp = String(docs.headers['content-security-policy']);
    expect(csp).toMatch(/style-src 'self' 'unsafe-inline'/);
    expect(csp).toMatch(/script-src 'self';/);
    const elsewhere = await s.app.inject({ method: 'GET', url: '/healthz' });
    expect(String(elsewhere.headers['content-security-policy'])).not.toContain('unsafe-inline');
  });
});
