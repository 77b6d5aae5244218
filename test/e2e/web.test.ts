import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { en } from '../../web/src/i18n/en.js';
import { ja } from '../../web/src/i18n/ja.js';
import { userChannel } from '../../src/realtime/channels.js';
import { newUser, type TestUser } from '../helpers/factories.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { expectAccessible, launchChromium, screenshot, watch } from './helpers.js';

const XSS = '<img src=x onerror=alert(1)>';
const fill = (s: string, vars: Record<string, string>) => Object.entries(vars).reduce((acc, [k, v]) => acc.split(`{${k}}`).join(v), s);

/**
 * The whole path through the real SPA in Chromium against the real server: a moderator opens a room,
 * staff invite a new member who signs up through the link, they chat live, a report is hidden from the
 * queue, a consultation is booked and confirmed. Every main screen is checked with axe-core.
 */
describe('web client (Chromium)', () => {
  let server: TestServer;
  let browser: Browser;
  let moderator: TestUser;
  let staff: TestUser;
  let other: TestUser;
  const contexts: BrowserContext[] = [];
  const watched: Array<{ errors: string[]; dialogs: string[] }> = [];
  let mod: Page;
  let stf: Page;
  let member: Page;
  let roomId = '';
  let inviteLink = '';
  const roomName = `はじめての部屋 ${Date.now().toString(36)}`;
  const memberHandle = `newcomer_${Date.now().toString(36)}`;

  async function openPage(viewport = { width: 1100, height: 800 }): Promise<Page> {
    // bypassCSP lets axe-core be injected; it also means the XSS checks prove text rendering, not the CSP, keeps payloads inert.
    const context = await browser.newContext({ viewport, locale: 'ja-JP', reducedMotion: 'reduce', bypassCSP: true });
    contexts.push(context);
    const page = await context.newPage();
    watched.push(watch(page));
    page.setDefaultTimeout(8000);
    return page;
  }

  async function signIn(page: Page, user: TestUser) {
    await page.goto(`${server.url}/login`);
    await page.getByLabel(ja.handle).fill(user.handle);
    await page.getByLabel(ja.password).fill(user.password);
    await page.getByRole('button', { name: ja.signInButton }).click();
    await page.getByRole('heading', { name: ja.roomsTitle }).waitFor();
  }

  async function send(page: Page, text: string) {
    const box = page.getByLabel(ja.composerLabel);
    await box.fill(text);
    await box.press('Enter');
  }

  const memberId = async () =>
    (await server.app.db.selectFrom('users').select('id').where('handle', '=', memberHandle).executeTakeFirstOrThrow()).id;
  const message = (page: Page, text: string) => page.locator('[data-testid=message]', { hasText: text });

  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchChromium();
    moderator = await newUser(server.app, { role: 'moderator', displayName: 'ピア 田中' });
    staff = await newUser(server.app, { role: 'staff', displayName: '相談員 佐藤' });
    other = await newUser(server.app, { role: 'member', displayName: 'なかま' });
  }, 120_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
  });

  it('serves the SPA at / and client routes, and keeps unknown /api paths a JSON 404', async () => {
    for (const p of ['/', '/rooms/00000000-0000-4000-8000-000000000000', '/invite/abc']) {
      const res = await fetch(`${server.url}${p}`, { headers: { accept: 'text/html' } });
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('<div id="app">');
    }
    const api = await fetch(`${server.url}/api/nothing-here`, { headers: { accept: 'text/html' } });
    expect(api.status).toBe(404);
    expect(await api.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    const missingAsset = await fetch(`${server.url}/assets/missing.js`);
    expect(missingAsset.status).toBe(404);
  });

  it('a moderator signs in, creates a room and adds the staff user to it', async () => {
    mod = await openPage();
    await mod.goto(`${server.url}/login`);
    await expect.poll(() => mod.evaluate(() => (globalThis as any).document.documentElement.lang)).toBe('ja');
    await expectAccessible(mod, 'login');
    await screenshot(mod, '01-login');
    await signIn(mod, moderator);

    await mod.getByText(ja.createRoom).click();
    await mod.getByLabel(ja.roomName).fill(roomName);
    await mod.getByLabel(ja.roomDescription).fill('ゆっくり話しましょう');
    await mod.getByRole('button', { name: ja.create }).click();
    await mod.getByRole('heading', { name: roomName }).waitFor();
    roomId = mod.url().split('/rooms/')[1]!;
    expect(roomId).toMatch(/^[0-9a-f-]{36}$/);

    await mod.getByRole('button', { name: ja.roomManage }).click();
    await mod.getByText(ja.addMember).click();
    await mod.getByLabel(ja.searchUsers).fill(staff.handle);
    await mod.getByRole('button', { name: ja.searchUsers }).click();
    await mod.getByRole('button', { name: ja.add }).click();
    await mod.locator('.member', { hasText: staff.displayName }).waitFor();
    await expectAccessible(mod, 'room with moderator panel');
    await screenshot(mod, '02-room-moderator');
  });

  it('staff create an invite for the room; the code and link are shown once', async () => {
    stf = await openPage();
    await signIn(stf, staff);
    await stf.getByRole('link', { name: ja.navInvites }).click();
    await stf.getByLabel(roomName).check();
    await stf.getByRole('button', { name: ja.newInvite }).click();
    const link = stf.getByLabel(ja.inviteLink);
    await link.waitFor();
    inviteLink = await link.inputValue();
    expect(inviteLink).toMatch(new RegExp(`^${server.url}/invite/.+`));
    await expectAccessible(stf, 'invites');
    await screenshot(stf, '03-invites');
  });

  it('a new member signs up through the invite link (display name is an HTML payload, shown as text)', async () => {
    member = await openPage({ width: 390, height: 844 }); // a phone
    await member.goto(inviteLink);
    await expect.poll(() => member.getByLabel(ja.inviteCode).inputValue()).toBe(decodeURIComponent(inviteLink.split('/invite/')[1]!));
    await expectAccessible(member, 'sign-up');
    await screenshot(member, '04-signup-phone');
    await member.getByLabel(ja.handle).fill(memberHandle);
    await member.getByLabel(ja.displayName).fill(XSS);
    await member.getByLabel(ja.password).fill('a quiet long password');
    await member.getByRole('button', { name: ja.signUpButton }).click();
    await member.getByRole('heading', { name: ja.roomsTitle }).waitFor();
    await member.getByRole('link', { name: new RegExp(roomName) }).waitFor();
    await expectAccessible(member, 'rooms');
    await screenshot(member, '05-rooms-phone');
    await member.getByRole('link', { name: new RegExp(roomName) }).click();
    await member.getByRole('heading', { name: roomName }).waitFor();
  });

  it('both chat live; Enter sends, Shift+Enter and IME composition do not; HTML stays text', async () => {
    await send(mod, 'ようこそ、ゆっくりしてください');
    await message(member, 'ようこそ、ゆっくりしてください').waitFor();

    const box = member.getByLabel(ja.composerLabel);
    await box.fill('変換中');
    // Enter while an IME is composing (isComposing, or keyCode 229 in some browsers) confirms the conversion.
    await box.evaluate((el) => {
      const KeyboardEvent = (globalThis as any).KeyboardEvent;
      el.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', isComposing: true, bubbles: true, cancelable: true }));
      el.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', keyCode: 229, bubbles: true, cancelable: true }));
    });
    await box.press('Shift+Enter');
    await box.type('二行目');
    expect(await box.inputValue()).toBe('変換中\n二行目');
    await box.press('Enter');
    await message(mod, '二行目').waitFor();
    expect(await box.inputValue()).toBe('');

    await send(member, XSS);
    const xss = mod.locator('.message-list p.body', { hasText: XSS });
    await xss.waitFor();
    expect(await xss.textContent()).toBe(XSS);
    expect(await mod.locator('.message-list img').count()).toBe(0);
    expect(await mod.locator('.author', { hasText: XSS }).count()).toBeGreaterThan(0);
    expect(await member.locator('.message-list img').count()).toBe(0);

    // A message from outside the browsers (HTTP) arrives live too, exactly once.
    await server.app.db.insertInto('room_members').values({ room_id: roomId, user_id: other.id, room_role: 'member', last_read_seq: 0 }).execute();
    const res = await server.app.inject({
      method: 'POST',
      url: `/api/rooms/${roomId}/messages`,
      headers: other.headers,
      payload: { body: 'ここに書いてもいいのかな', clientId: randomUUID() },
    });
    expect(res.statusCode).toBe(201);
    await message(member, 'ここに書いてもいいのかな').waitFor();
    await message(mod, 'ここに書いてもいいのかな').waitFor();
    expect(await message(member, 'ここに書いてもいいのかな').count()).toBe(1);
    await expectAccessible(member, 'room');
    await screenshot(member, '06-room-phone');
  });

  it('the member reports a message; the moderator hides it from the queue; the member sees it hidden', async () => {
    await member.getByRole('button', { name: fill(ja.messageActions, { name: other.displayName }) }).click();
    await member.getByRole('button', { name: ja.report, exact: true }).click();
    await member.getByLabel(ja.reportReason).selectOption('spam');
    await member.getByLabel(new RegExp(ja.reportNote)).fill('宣伝のように見えます');
    await member.getByRole('button', { name: ja.reportSend }).click();
    await member.getByText(ja.reportThanks).waitFor();

    await mod.getByRole('link', { name: ja.navModeration }).click();
    const flag = mod.locator('[data-testid=flag]', { hasText: 'ここに書いてもいいのかな' });
    await flag.waitFor();
    await expect.poll(() => flag.textContent()).toContain(ja.reason_spam);
    await expectAccessible(mod, 'moderation queue');
    await screenshot(mod, '07-moderation');
    await flag.getByRole('button', { name: ja.hideMessage }).click();
    await mod.getByText(ja.resolved).waitFor();
    await expect.poll(() => flag.count()).toBe(0);

    const hidden = message(member, ja.hiddenMessage);
    await hidden.waitFor();
    expect(await message(member, 'ここに書いてもいいのかな').count()).toBe(0);
  });

  it('after the connection drops, missed messages are caught up: none lost, none doubled', async () => {
    // Drop the member's socket from the server side (as a node shutting down does); write while it is away.
    server.app.io.in(userChannel(await memberId())).disconnectSockets(true);
    for (const body of ['留守中のひとこと 1', '留守中のひとこと 2']) {
      const res = await server.app.inject({
        method: 'POST',
        url: `/api/rooms/${roomId}/messages`,
        headers: other.headers,
        payload: { body, clientId: randomUUID() },
      });
      expect(res.statusCode).toBe(201);
    }
    await message(member, '留守中のひとこと 2').waitFor();
    const after = await server.app.inject({
      method: 'POST',
      url: `/api/rooms/${roomId}/messages`,
      headers: other.headers,
      payload: { body: '戻ってきましたね', clientId: randomUUID() },
    });
    expect(after.statusCode).toBe(201);
    await message(member, '戻ってきましたね').waitFor();
    for (const body of ['留守中のひとこと 1', '留守中のひとこと 2', '戻ってきましたね', 'ようこそ、ゆっくりしてください']) {
      expect(await member.locator('.message-list p.body', { hasText: body }).count()).toBe(1);
    }
    const seqs = await member.locator('[data-testid=message]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-seq'))));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('a crisis word brings a gentle help panel that does not block the room', async () => {
    await send(member, 'もう消えたい');
    const panel = member.getByTestId('help-panel');
    await panel.waitFor();
    expect(await panel.textContent()).toContain(ja.helpTitle);
    await send(member, 'まだここにいます');
    // the composer still works beside the panel
    await message(member, 'まだここにいます').waitFor();
    await screenshot(member, '08-help-panel-phone');
    await panel.getByRole('button', { name: ja.close }).click();
    await expect.poll(() => panel.count()).toBe(0);
  });

  it('the member books a visit slot, staff confirm it, the member sees it confirmed', async () => {
    await stf.getByRole('link', { name: ja.navStaffBookings }).click();
    await stf.getByText(ja.newSlot).click();
    const tomorrow = new Date(Date.now() + 86400_000);
    const pad = (n: number) => String(n).padStart(2, '0');
    await stf.getByLabel(ja.date).fill(`${tomorrow.getFullYear()}-${pad(tomorrow.getMonth() + 1)}-${pad(tomorrow.getDate())}`);
    await stf.getByLabel(ja.startTime).fill('14:00');
    await stf.getByLabel(ja.kind_visit).check();
    await stf.getByLabel(new RegExp(`^${ja.location}`)).fill('札幌事務所');
    await stf.getByRole('button', { name: ja.create }).click();
    await stf.getByRole('button', { name: ja.deleteSlot }).waitFor();

    await member.getByRole('link', { name: ja.navBookings }).click();
    await member.getByRole('heading', { name: ja.bookingTitle }).waitFor();
    if (tomorrow.getDay() === 1) await member.getByRole('button', { name: new RegExp(ja.nextWeek) }).click();
    const slot = member.getByTestId('slot').filter({ hasText: staff.displayName });
    await slot.getByRole('button', { name: ja.book }).click();
    await expect.poll(() => slot.getByLabel(ja.visitAddress).count()).toBe(0); // office first: no address field
    await slot.getByLabel(ja.kind_visit).check();
    await slot.getByLabel(ja.visitAddress).fill('札幌市中央区北1条西1丁目');
    await expectAccessible(member, 'booking');
    await screenshot(member, '09-booking-phone');
    await slot.getByRole('button', { name: ja.book }).click();
    await member.getByText(ja.bookingRequested).waitFor();
    const mine = member.getByTestId('my-booking').first();
    await expect.poll(() => mine.textContent()).toContain(ja.status_requested);

    await stf.reload();
    const request = stf.getByTestId('booking-request').filter({ hasText: memberHandle });
    await request.waitFor();
    expect(await request.textContent()).toContain('札幌市中央区北1条西1丁目');
    await expectAccessible(stf, 'staff bookings');
    await screenshot(stf, '10-staff-bookings');
    await request.getByRole('button', { name: ja.confirm }).click();
    await stf.getByTestId('confirmed-booking').filter({ hasText: memberHandle }).waitFor();

    await expect.poll(() => mine.textContent(), { timeout: 8000 }).toContain(ja.status_confirmed);
  });

  it('stays signed in across a reload (refresh token rotation) and never ran injected script', async () => {
    await member.reload();
    await member.getByRole('heading', { name: ja.bookingTitle }).waitFor();
    await mod.getByRole('link', { name: ja.navRooms, exact: true }).click();
    await mod.getByRole('link', { name: new RegExp(roomName) }).click();
    await mod.locator('.message-list p.body', { hasText: XSS }).waitFor();
    await member.getByRole('button', { name: ja.languageLabel }).click();
    await member.getByRole('heading', { name: en.bookingTitle }).waitFor();
    expect(await member.evaluate(() => (globalThis as any).document.documentElement.lang)).toBe('en');
    for (const w of watched) {
      expect(w.dialogs).toEqual([]);
      expect(w.errors).toEqual([]);
    }
  });
});
