import { randomBytes, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Config } from '../../config.js';

/**
 * A meeting name: 160 random bits as 40 lowercase hex characters. It names neither the room nor its
 * members (nor the service), so a link seen in a shared browser history or a provider's log says nothing.
 */
export const newMeetingName = (): string => randomBytes(20).toString('hex');

/**
 * Gentle defaults in the link's fragment (read by the Jitsi web app, never sent to any server):
 * camera and microphone off on entry, the pre-join screen first (to check one's picture and choose
 * the name shown), no push towards the mobile app, no invite buttons that would spread the link.
 */
export const GENTLE_FRAGMENT = [
  'config.startWithVideoMuted=true',
  'config.startWithAudioMuted=true',
  'config.prejoinConfig.enabled=true',
  'config.disableDeepLinking=true',
  'config.disableInviteFunctions=true',
].join('&');

/**
 * A join token lives at most this long (and never past the call's expiry): Jitsi checks it when a
 * member enters, so a link fetched before a removal or ban stops opening the meeting within minutes.
 * Members ask for a fresh link each time they join.
 */
export const JOIN_TOKEN_TTL_SECONDS = 10 * 60;
/** nbf is set this far back so a Jitsi server whose clock is slightly behind still accepts a fresh token. */
export const CLOCK_SKEW_SECONDS = 60;
export const JITSI_AUDIENCE = 'jitsi';

export interface JoinFor {
  user: { id: string; displayName: string };
  /** Room moderators get Jitsi moderator rights; nobody else does. */
  moderator: boolean;
  callExpiresAt: Date;
  now?: Date;
}

type JitsiConfig = Pick<Config, 'JITSI_BASE_URL' | 'JITSI_APP_ID' | 'JITSI_APP_SECRET'>;

/** The Jitsi domain (`sub` of the token): the host name of JITSI_BASE_URL. */
export const jitsiDomain = (config: JitsiConfig): string => new URL(config.JITSI_BASE_URL).hostname;

/** A Jitsi JWT (HS256) admitting one member to this meeting only, until at most the call's expiry. */
export async function signJoinToken(config: JitsiConfig & { JITSI_APP_SECRET: string; JITSI_APP_ID: string }, meetingName: string, join: JoinFor): Promise<string> {
  const now = Math.floor((join.now ?? new Date()).getTime() / 1000);
  const exp = Math.min(now + JOIN_TOKEN_TTL_SECONDS, Math.floor(join.callExpiresAt.getTime() / 1000));
  const claims: Record<string, unknown> = {
    room: meetingName,
    context: { user: { id: join.user.id, name: join.user.displayName } },
  };
  if (join.moderator) claims.moderator = true;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setAudience(JITSI_AUDIENCE)
    .setIssuer(config.JITSI_APP_ID)
    .setSubject(jitsiDomain(config))
    .setIssuedAt(now)
    .setNotBefore(now - CLOCK_SKEW_SECONDS)
    .setExpirationTime(exp)
    .setJti(randomUUID())
    .sign(new TextEncoder().encode(config.JITSI_APP_SECRET));
}

/**
 * The personal join URL: JITSI_BASE_URL/meetingName, with `?jwt=` when an app secret is configured,
 * and the gentle config fragment. Without a secret it is the unguessable meeting URL alone.
 */
export async function joinUrl(config: JitsiConfig, meetingName: string, join: JoinFor): Promise<string> {
  const base = config.JITSI_BASE_URL.replace(/[?#].*$/, '').replace(/\/+$/, '');
  let url = `${base}/${meetingName}`;
  if (config.JITSI_APP_SECRET && config.JITSI_APP_ID) {
    const token = await signJoinToken({ ...config, JITSI_APP_SECRET: config.JITSI_APP_SECRET, JITSI_APP_ID: config.JITSI_APP_ID }, meetingName, join);
    url += `?jwt=${encodeURIComponent(token)}`;
  }
  return `${url}#${GENTLE_FRAGMENT}`;
}
