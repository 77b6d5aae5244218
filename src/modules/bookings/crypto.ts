import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Database } from '../../db/database.js';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM with a random 12-byte IV per value; stored as iv | tag | ciphertext.
 * `aad` binds the ciphertext to its row (the booking id), so a value copied to another row won't open.
 */
export function encrypt(key: Buffer, plaintext: string, aad: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), data]);
}

/** Throws when the key, the AAD or the bytes are wrong (GCM authenticates all three). */
export function decrypt(key: Buffer, sealed: Buffer, aad: string): string {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new Error('sealed value too short');
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
}

const CHECK_AAD = 'engawa:data-key-check';
const CHECK_PLAINTEXT = 'engawa data key check v1';

export class DataKeyMismatchError extends Error {
  constructor() {
    super(
      'DATA_KEY does not match the key this database was encrypted with. Start with the original DATA_KEY ' +
        '(in embedded mode: DATA_DIR/secrets/data-key); refusing to start so no visit address is lost or unreadable.',
    );
    this.name = 'DataKeyMismatchError';
  }
}

/**
 * On the first start stores a value encrypted with the key; on every later start decrypts it.
 * A different key throws DataKeyMismatchError, so the app does not start.
 */
export async function verifyDataKey(db: Database, key: Buffer): Promise<void> {
  await db
    .insertInto('data_key_check')
    .values({ id: 1, value: encrypt(key, CHECK_PLAINTEXT, CHECK_AAD) })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  const row = await db.selectFrom('data_key_check').select('value').where('id', '=', 1).executeTakeFirstOrThrow();
  let opened: string;
  try {
    opened = decrypt(key, row.value, CHECK_AAD);
  } catch {
    throw new DataKeyMismatchError();
  }
  if (opened !== CHECK_PLAINTEXT) throw new DataKeyMismatchError();
}
