import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

/** /api routes reachable without a bearer token (the contract's "except" list). */
const PUBLIC_API_ROUTES = new Set(['/api/auth/register', '/api/auth/login', '/api/auth/refresh', '/api/bookings/calendar.ics']);

/**
 * The docs UI's own CSP, replacing the app-wide one on /docs only: Swagger UI sets inline styles,
 * so 'unsafe-inline' is allowed for styles here and nowhere else. Scripts stay 'self'.
 */
export const DOCS_CSP =
  "default-src 'self'; base-uri 'self'; script-src 'self'; script-src-attr 'none'; style-src 'self' 'unsafe-inline'; " +
  "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; form-action 'self'";

export interface RouteEntry {
  method: string;
  url: string;
  hidden: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route registered on the app (collected by onRoute), e.g. to check the docs cover them all. */
    routeList: RouteEntry[];
  }
}

/** OpenAPI document at /docs/json and its UI at /docs, generated from the routes' zod schemas. Registered before any route. */
export const docsPlugin = fp(
  async (app) => {
    const routes: RouteEntry[] = [];
    app.decorate('routeList', routes);
    app.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const method of methods) routes.push({ method, url: route.url, hidden: Boolean(route.schema?.hide) });
    });

    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Engawa API',
          version: '1',
          description: 'Members-only net-meeting server for peer-support groups. Errors are `{error: {code, message, details?}}`.',
        },
        components: {
          securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
        },
      },
      transform: (input) => {
        const out = jsonSchemaTransform(input);
        if (input.url.startsWith('/api/') && !PUBLIC_API_ROUTES.has(input.url) && out.schema && !out.schema.hide) {
          return { ...out, schema: { security: [{ bearerAuth: [] }], ...out.schema } };
        }
        return out;
      },
      transformObject: jsonSchemaTransformObject,
    });
    await app.register(swaggerUi, {
      routePrefix: '/docs',
      staticCSP: DOCS_CSP,
      uiConfig: { validatorUrl: null, deepLinking: false },
    });
  },
  { name: 'engawa-docs' },
);
