import fp from 'fastify-plugin';

/** Security headers (helmet, CSP the SPA works under). */
export const securityPlugin = fp(async (_app) => {}, { name: 'engawa-security' });
