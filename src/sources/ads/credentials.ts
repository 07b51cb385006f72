import { inspect } from 'node:util';

/**
 * Credentials of the ads APIs. A Secret prints as `[redacted]` through every path a value can leak by
 * (String(), template strings, JSON.stringify, console.log/util.inspect, pino): only `reveal()` gives it out,
 * and only the request builders call it.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    if (value === '') throw new Error('empty secret');
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '[redacted]';
  }

  toJSON(): string {
    return '[redacted]';
  }

  [inspect.custom](): string {
    return 'Secret([redacted])';
  }
}

/** A fixed token, or a function returning a fresh one (OAuth refresh lives outside the connectors). */
export type TokenSource = Secret | (() => Promise<string>);

export async function tokenOf(t: TokenSource): Promise<string> {
  return t instanceof Secret ? t.reveal() : t();
}

export interface GoogleAdsCredentials {
  readonly developerToken: Secret;
  readonly accessToken: TokenSource;
  /** Manager (MCC) account the access goes through, digits only. */
  readonly loginCustomerId?: string;
}
export interface MetaCredentials {
  readonly accessToken: TokenSource;
}
export interface TikTokCredentials {
  readonly accessToken: TokenSource;
}
/** X Ads API uses OAuth 1.0a user context: four values. */
export interface XAdsCredentials {
  readonly consumerKey: Secret;
  readonly consumerSecret: Secret;
  readonly accessToken: Secret;
  readonly accessTokenSecret: Secret;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Reads variables, failing with the *names* of the missing ones (never values). Optional ones may be ''. */
function read<K extends string>(
  env: Env,
  names: Record<K, string>,
  optional: readonly NoInfer<K>[] = [],
): Record<K, string> {
  const out = {} as Record<K, string>;
  const missing: string[] = [];
  for (const key of Object.keys(names) as K[]) {
    const value = env[names[key]] ?? '';
    if (value === '' && !optional.includes(key)) missing.push(names[key]);
    out[key] = value;
  }
  if (missing.length > 0) throw new Error(`ads credentials: ${missing.join(', ')} not set`);
  return out;
}

export function googleAdsCredentialsFromEnv(env: Env = process.env): GoogleAdsCredentials {
  const v = read(
    env,
    {
      developerToken: 'TESSERA_GOOGLE_ADS_DEVELOPER_TOKEN',
      accessToken: 'TESSERA_GOOGLE_ADS_ACCESS_TOKEN',
      loginCustomerId: 'TESSERA_GOOGLE_ADS_LOGIN_CUSTOMER_ID',
    },
    ['loginCustomerId'],
  );
  return {
    developerToken: new Secret(v.developerToken),
    accessToken: new Secret(v.accessToken),
    ...(v.loginCustomerId ? { loginCustomerId: v.loginCustomerId } : {}),
  };
}

export function metaCredentialsFromEnv(env: Env = process.env): MetaCredentials {
  return { accessToken: new Secret(read(env, { t: 'TESSERA_META_ACCESS_TOKEN' }).t) };
}

export function tiktokCredentialsFromEnv(env: Env = process.env): TikTokCredentials {
  return { accessToken: new Secret(read(env, { t: 'TESSERA_TIKTOK_ACCESS_TOKEN' }).t) };
}

export function xAdsCredentialsFromEnv(env: Env = process.env): XAdsCredentials {
  const v = read(env, {
    consumerKey: 'TESSERA_X_ADS_CONSUMER_KEY',
    consumerSecret: 'TESSERA_X_ADS_CONSUMER_SECRET',
    accessToken: 'TESSERA_X_ADS_ACCESS_TOKEN',
    accessTokenSecret: 'TESSERA_X_ADS_ACCESS_TOKEN_SECRET',
  });
  return {
    consumerKey: new Secret(v.consumerKey),
    consumerSecret: new Secret(v.consumerSecret),
    accessToken: new Secret(v.accessToken),
    accessTokenSecret: new Secret(v.accessTokenSecret),
  };
}
