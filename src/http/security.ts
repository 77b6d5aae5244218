import fp from 'fastify-plugin';
import helmet from '@fastify/helmet';

/**
 * The CSP the SPA runs under: its own scripts and styles only, API and Socket.IO on the same origin
 * (`ws:`/`wss:` for the websocket transport), no framing, no plugins. No `upgrade-insecure-requests`:
 * TLS is the proxy's job, and a plain-HTTP LAN install must still load its assets.
 * `/docs` replaces this with its own policy (see docs.ts), the only place inline styles are allowed.
 */
export const CONTENT_SECURITY_POLICY = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'self'"],
    baseUri: ["'self'"],
    scriptSrc: ["'self'"],
    scriptSrcAttr: ["'none'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", 'data:'],
    fontSrc: ["'self'"],
    connectSrc: ["'self'", 'ws:', 'wss:'],
    objectSrc: ["'none'"],
    frameAncestors: ["'none'"],
    formAction: ["'self'"],
  },
};

/** Security headers on every HTTP response (helmet). Socket.IO origins are checked in realtime/server.ts. */
export const securityPlugin = fp(
  async (app) => {
    await app.register(helmet, {
      contentSecurityPolicy: CONTENT_SECURITY_POLICY,
      // Pages are never embedded anywhere, and nothing leaves the origin in a referrer.
      frameguard: { action: 'deny' },
      referrerPolicy: { policy: 'no-referrer' },
    });
  },
  { name: 'engawa-security' },
);
