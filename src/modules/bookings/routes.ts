import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses, idParams } from '../../http/schemas.js';
import { calendarFeed, issueCalendarToken } from './calendar.js';
import { verifyDataKey } from './crypto.js';
import { scheduleBookingJobs } from './jobs.js';
import {
  bookingSchema,
  calendarQuery,
  calendarTokenSchema,
  cancelBody,
  createBookingBody,
  createSlotBody,
  declineBody,
  emptyBody,
  listBookingsQuery,
  listSlotsQuery,
  slotSchema,
} from './schemas.js';
import {
  createBooking,
  createSlot,
  deleteSlot,
  getBooking,
  listBookings,
  listSlots,
  transitionBooking,
  type BookingsContext,
  type Transition,
} from './service.js';

/** HTTP adapter of the bookings module (routes under /api). */
export const bookingsRoutes: FastifyPluginAsyncZod = async (app) => {
  // A wrong DATA_KEY throws here, so buildApp fails and the server does not start.
  await verifyDataKey(app.db, app.config.DATA_KEY);
  scheduleBookingJobs(app);

  const ctx: BookingsContext = { db: app.db, dataKey: app.config.DATA_KEY, realtime: app.realtime };
  const auth = { onRequest: [app.authenticate] };

  // Bookings, slots and the feed are private: no cache anywhere may keep them.
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('cache-control', 'no-store');
    return payload;
  });

  app.post(
    '/slots',
    { ...auth, schema: { tags: ['bookings'], body: createSlotBody, response: { 201: slotSchema, ...errorResponses } } },
    async (request, reply) => reply.status(201).send(await createSlot(ctx, request.actor, request.body)),
  );

  app.get(
    '/slots',
    { ...auth, schema: { tags: ['bookings'], querystring: listSlotsQuery, response: { 200: z.object({ slots: z.array(slotSchema) }), ...errorResponses } } },
    async (request) => ({ slots: await listSlots(ctx, request.actor, request.query) }),
  );

  app.delete(
    '/slots/:id',
    { ...auth, schema: { tags: ['bookings'], params: idParams, response: { 204: z.null(), ...errorResponses } } },
    async (request, reply) => {
      await deleteSlot(ctx, request.actor, request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/bookings',
    { ...auth, schema: { tags: ['bookings'], body: createBookingBody, response: { 201: bookingSchema, ...errorResponses } } },
    async (request, reply) => reply.status(201).send(await createBooking(ctx, request.actor, request.body)),
  );

  app.get(
    '/bookings',
    { ...auth, schema: { tags: ['bookings'], querystring: listBookingsQuery, response: { 200: z.object({ bookings: z.array(bookingSchema) }), ...errorResponses } } },
    async (request) => ({ bookings: await listBookings(ctx, request.actor, request.query) }),
  );

  // Registered before /bookings/:id; static routes win in find-my-way anyway. No bearer: the token is the key.
  app.get(
    '/bookings/calendar.ics',
    { schema: { tags: ['bookings'], querystring: calendarQuery } },
    async (request, reply) => {
      const body = await calendarFeed(app.db, request.query.token);
      return reply.type('text/calendar; charset=utf-8').send(body);
    },
  );

  app.get(
    '/bookings/:id',
    { ...auth, schema: { tags: ['bookings'], params: idParams, response: { 200: bookingSchema, ...errorResponses } } },
    async (request) => getBooking(ctx, request.actor, request.params.id),
  );

  const simple: Array<[string, Transition]> = [
    ['confirm', 'confirm'],
    ['complete', 'complete'],
    ['no-show', 'no_show'],
  ];
  for (const [path, action] of simple) {
    app.post(
      `/bookings/:id/${path}`,
      { ...auth, schema: { tags: ['bookings'], params: idParams, body: emptyBody, response: { 200: bookingSchema, ...errorResponses } } },
      async (request) => transitionBooking(ctx, request.actor, request.params.id, action),
    );
  }

  app.post(
    '/bookings/:id/decline',
    { ...auth, schema: { tags: ['bookings'], params: idParams, body: declineBody, response: { 200: bookingSchema, ...errorResponses } } },
    async (request) => transitionBooking(ctx, request.actor, request.params.id, 'decline', request.body.reason),
  );

  app.post(
    '/bookings/:id/cancel',
    { ...auth, schema: { tags: ['bookings'], params: idParams, body: cancelBody, response: { 200: bookingSchema, ...errorResponses } } },
    async (request) => transitionBooking(ctx, request.actor, request.params.id, 'cancel', request.body?.reason),
  );

  app.post(
    '/me/calendar-token',
    { ...auth, schema: { tags: ['bookings'], body: emptyBody, response: { 201: calendarTokenSchema, ...errorResponses } } },
    async (request, reply) => {
      const token = await issueCalendarToken(app.db, request.actor);
      const url = `${request.protocol}://${request.host}/api/bookings/calendar.ics?token=${encodeURIComponent(token)}`;
      return reply.status(201).send({ token, url });
    },
  );
};
