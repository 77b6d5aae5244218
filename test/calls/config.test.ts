import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { callTtlSeconds } from '../../src/modules/calls/service.js';
import { loadConfig } from '../../src/secrets.js';
import { TEST_DATA_KEY, TEST_JWT_SECRET } from '../helpers/server.js';

const base = { DATABASE_URL: 'postgres://x@127.0.0.1:5432/x', JWT_SECRET: TEST_JWT_SECRET, DATA_KEY: TEST_DATA_KEY };

describe('call configuration', () => {
  it('JITSI_APP_SECRET without JITSI_APP_ID is refused at start (the token needs an issuer)', () => {
    expect(() => loadConfig({ ...base, JITSI_APP_SECRET: 'secret' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, JITSI_APP_SECRET: 'secret' })).toThrow(/JITSI_APP_ID/);
    expect(loadConfig({ ...base, JITSI_APP_SECRET: 'secret', JITSI_APP_ID: 'engawa' }).JITSI_APP_ID).toBe('engawa');
  });

  it('defaults: meet.jit.si, 180-minute calls; CALL_TTL_SECONDS (tests only) overrides the minutes', () => {
    const config = loadConfig(base);
    expect(config.JITSI_BASE_URL).toBe('https://meet.jit.si');
    expect(callTtlSeconds(config)).toBe(180 * 60);
    expect(callTtlSeconds(loadConfig({ ...base, CALL_TTL_MINUTES: '30' }))).toBe(30 * 60);
    expect(callTtlSeconds(loadConfig({ ...base, CALL_TTL_SECONDS: '5' }))).toBe(5);
  });

  it('bad values are refused: a non-http JITSI_BASE_URL, a zero TTL', () => {
    expect(() => loadConfig({ ...base, JITSI_BASE_URL: 'ftp://video.example.org' })).toThrow(/JITSI_BASE_URL/);
    expect(() => loadConfig({ ...base, CALL_TTL_MINUTES: '0' })).toThrow(/CALL_TTL_MINUTES/);
    expect(() => loadConfig({ ...base, CALL_TTL_SECONDS: '0' })).toThrow(/CALL_TTL_SECONDS/);
  });
});
