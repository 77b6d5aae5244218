import fp from 'fastify-plugin';

/** Prometheus metrics at /metrics. */
export const metricsPlugin = fp(async (_app) => {}, { name: 'engawa-metrics' });
