import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { PII_KEY_ENV } from '../sources/pii.js';

/**
 * The erasure list and the audit never hold an identifier, only HMAC-SHA256(PII key, "<kind>:<value>"): whoever
 * holds the key can test whether an id was erased (the ingest guard does, for every id it lands), nobody else
 * can, and a short numeric id cannot be recovered by hashing every candidate without the key. The key is the
 * one PII columns are hashed with at the door ($TESSERA_PII_KEY); it is held as a KeyObject, never printed.
 */

const MIN_KEY_LENGTH = 16;
/** What `keyCheck` hashes: the list records it, so a guard running with another key fails instead of missing. */
const KEY_CHECK_INPUT = 'tessera/gdpr/key-check';

export class ErasureKeyError extends Error {
  override readonly name = 'ErasureKeyError';
}

export class ErasureKey {
  private constructor(private readonly key: KeyObject) {}

  /** From an explicit key or $TESSERA_PII_KEY; refuses a missing or short one. */
  static from(value: string | undefined = process.env[PII_KEY_ENV]): ErasureKey {
    if (value === undefined || value.length < MIN_KEY_LENGTH)
      throw new ErasureKeyError(
        `GDPR erasure needs the PII key ($${PII_KEY_ENV}, at least ${MIN_KEY_LENGTH} characters): the erasure list holds only keyed hashes of identifiers`,
      );
    return new ErasureKey(createSecretKey(Buffer.from(value, 'utf8')));
  }

  /** The keyed hash of one identifier value, as 64 hex digits. */
  hash(kind: string, value: string): string {
    return createHmac('sha256', this.key).update(`${kind}:${value}`).digest('hex');
  }

  get check(): string {
    return createHmac('sha256', this.key).update(KEY_CHECK_INPUT).digest('hex').slice(0, 16);
  }

  toJSON(): string {
    return '[ErasureKey]';
  }
}
