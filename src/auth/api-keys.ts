import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * What a key may do: `send` submits notifications (single and batch), `read` reads their status, `admin` cancels and
 * retries them and uses the payload codec endpoint. Scopes are independent: give a key every scope it needs.
 */
export const SCOPES = ['send', 'read', 'admin'] as const;

/** One of {@link SCOPES}. */
export type Scope = (typeof SCOPES)[number];

/** A configured API key: its name (the client id that owns the notifications it creates), scopes and SHA-256 digest. */
export interface ApiKeyEntry {
  name: string;
  scopes: readonly Scope[];
  /** SHA-256 of the key; the key itself is never configured or stored. */
  digest: Buffer;
}

/** Prefix of generated keys: makes them recognisable to secret scanners and in support requests. */
export const API_KEY_PREFIX = 'nfy_';
const NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** SHA-256 (hex) of a presented or generated key, as written in API_KEYS. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** A new random key (256 bits, base64url). Shown once; only its hash is configured. */
export function generateApiKey(): string {
  return `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** The API_KEYS entry for a key: `name:scope1|scope2:sha256:<hex>`. */
export function formatApiKeyEntry(name: string, scopes: readonly Scope[], key: string): string {
  return `${name}:${scopes.join('|')}:sha256:${hashApiKey(key)}`;
}

/** Validates a key name (the client id); throws with the rule when it does not fit. */
export function assertKeyName(name: string): void {
  if (!NAME_PATTERN.test(name))
    throw new Error(
      `key name ${JSON.stringify(name)} must be 1-64 letters, digits, '.', '_' or '-' (it becomes the client id)`,
    );
}

/** Parses scope names (`send|read` or `send,read`); throws naming the unknown one. */
export function parseScopes(list: string, separator: string | RegExp): Scope[] {
  const scopes = list
    .split(separator)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (scopes.length === 0) throw new Error(`no scopes given; use some of ${SCOPES.join(', ')}`);
  for (const scope of scopes) {
    if (!(SCOPES as readonly string[]).includes(scope))
      throw new Error(`unknown scope ${JSON.stringify(scope)}; known scopes: ${SCOPES.join(', ')}`);
  }
  return [...new Set(scopes)] as Scope[];
}

/**
 * Parses API_KEYS: comma-separated `name:scope1|scope2:sha256:<64 hex>` entries. One name may appear several times
 * (key rotation: old and new key of the same client, both owning the same notifications). Throws with a message
 * naming the entry at fault; never echoes a digest.
 */
export function parseApiKeys(spec: string): ApiKeyEntry[] {
  const entries = spec
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (entries.length === 0)
    throw new Error(
      'expected at least one `name:scope1|scope2:sha256:<hex>` entry (create one with `npm run keys -- new <name> --scopes send,read`)',
    );
  const seen = new Set<string>();
  return entries.map((entry, index) => {
    const parts = entry.split(':');
    const where = `entry ${index + 1}`;
    if (parts.length !== 4) {
      throw new Error(
        `${where}: expected \`name:scope1|scope2:sha256:<hex>\` (4 colon-separated fields, got ${parts.length}); create entries with \`npm run keys -- new <name> --scopes send,read\``,
      );
    }
    const [name = '', scopeList = '', algorithm = '', hex = ''] = parts;
    try {
      assertKeyName(name);
    } catch (err) {
      throw new Error(`${where}: ${(err as Error).message}`);
    }
    let scopes: Scope[];
    try {
      scopes = parseScopes(scopeList, '|');
    } catch (err) {
      throw new Error(`${where} (${name}): ${(err as Error).message}`);
    }
    if (algorithm !== 'sha256')
      throw new Error(`${where} (${name}): hash algorithm must be sha256, got ${JSON.stringify(algorithm)}`);
    if (!/^[0-9a-f]{64}$/.test(hex))
      throw new Error(
        `${where} (${name}): the digest must be 64 lowercase hex characters (the SHA-256 of the key, not the key itself)`,
      );
    if (seen.has(hex)) throw new Error(`${where} (${name}): the same key is configured twice`);
    seen.add(hex);
    return { name, scopes, digest: Buffer.from(hex, 'hex') };
  });
}

/** Default bound of {@link ApiKeyVerifier}'s cache of verified keys. */
export const VERIFIED_KEY_CACHE_SIZE = 1_024;

/**
 * Checks presented keys against the configured digests. The presented key is hashed and compared with every digest
 * with `crypto.timingSafeEqual`, without stopping at the first match, so timing reveals neither which nor how many
 * bytes matched.
 *
 * Verified keys are remembered in a bounded cache keyed by the SHA-256 digest of the presented key (never by the key
 * itself): a repeat caller costs one hash and one map lookup instead of a comparison against every configured digest.
 * A map lookup by digest leaks nothing about the key (finding a key with a given digest prefix is a preimage attack),
 * unknown keys are never cached (a key-guessing client cannot fill it), and the cache belongs to this verifier's key
 * set: rotating or revoking a key means configuring a new set, i.e. a new verifier with an empty cache. When full, the
 * least recently inserted entry is evicted.
 */
export class ApiKeyVerifier {
  private readonly verified = new Map<string, ApiKeyEntry>();

  constructor(
    private readonly entries: readonly ApiKeyEntry[],
    private readonly cacheSize = VERIFIED_KEY_CACHE_SIZE,
  ) {}

  /** The entry the key belongs to, or undefined for an unknown key. */
  verify(presented: string): ApiKeyEntry | undefined {
    const digest = createHash('sha256').update(presented, 'utf8').digest();
    const cacheKey = digest.toString('base64');
    const cached = this.verified.get(cacheKey);
    if (cached !== undefined) return cached;
    let match: ApiKeyEntry | undefined;
    for (const entry of this.entries) {
      if (timingSafeEqual(digest, entry.digest) && match === undefined) match = entry;
    }
    if (match !== undefined && this.cacheSize > 0) {
      if (this.verified.size >= this.cacheSize) {
        const oldest = this.verified.keys().next();
        if (oldest.done !== true) this.verified.delete(oldest.value);
      }
      this.verified.set(cacheKey, match);
    }
    return match;
  }

  /** Verified keys currently cached (bounded by the cache size). */
  get cachedKeys(): number {
    return this.verified.size;
  }

  /** Number of configured keys (for the start-up log line). */
  get size(): number {
    return this.entries.length;
  }
}
