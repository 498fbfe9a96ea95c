/**
 * fast-check generators for the bad-input suite: valid notification requests, mutations of them, junk headers and
 * garbage bytes.
 */
import fc from 'fast-check';

/** A valid delivery on one of the registered channels. */
export const validDelivery: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({
    channel: fc.constant('email'),
    to: fc.constantFrom('ada@example.com', 'grace@example.org', ['a@example.com', 'b@example.com']),
    content: fc.record({
      subject: fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !/[\r\n]/.test(s)),
      text: fc.string({ minLength: 1, maxLength: 200 }),
    }),
  }),
  fc.record({
    channel: fc.constant('sms'),
    to: fc.constantFrom('+14155550123', '+447700900123'),
    content: fc.record({ body: fc.string({ minLength: 1, maxLength: 160 }) }),
  }),
  fc.record({
    channel: fc.constant('slack'),
    to: fc.constant({ channel: '#alerts' }),
    content: fc.record({ text: fc.string({ minLength: 1, maxLength: 100 }) }),
  }),
);

/** A valid notification request body. */
export const validBody: fc.Arbitrary<Record<string, unknown>> = fc.record(
  {
    deliveries: fc.array(validDelivery, { minLength: 1, maxLength: 3 }),
    routing: fc.constantFrom('all', 'fallback'),
    tags: fc.array(fc.stringMatching(/^[a-z0-9_.:-]{1,20}$/), { maxLength: 3 }),
    metadata: fc.dictionary(fc.stringMatching(/^[a-z]{1,10}$/), fc.string({ maxLength: 30 }), { maxKeys: 3 }),
  },
  { requiredKeys: ['deliveries'] },
);

/** Nested arrays/objects `depth` levels deep around `leaf`. */
export function nested(depth: number, leaf: unknown, asObject: boolean): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = asObject ? { a: value } : [value];
  return value;
}

/** Values of every JSON type, including awkward ones: huge and unicode strings, deep nesting, extreme numbers. */
export const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue(),
  fc.string({ unit: 'binary', maxLength: 50 }),
  fc.string({ unit: 'grapheme', maxLength: 50 }),
  fc.integer({ min: 1_000, max: 40_000 }).map((n) => 'x'.repeat(n)),
  fc.integer({ min: 1, max: 400 }).chain((d) => fc.boolean().map((o) => nested(d, 'deep', o))),
  fc.constantFrom(
    0,
    -1,
    1e308,
    -1e308,
    Number.MAX_SAFE_INTEGER + 2,
    0.1,
    '',
    ' ',
    '\u0000',
    '\ud800',
    '💥'.repeat(200),
    null,
    true,
    [],
    {},
  ),
);

type Path = Array<string | number>;

/** Paths to the fields (object keys or array indexes) inside `value`, down to `maxDepth` levels (mutation targets). */
export function pathsOf(value: unknown, prefix: Path = [], maxDepth = 6): Path[] {
  if (prefix.length >= maxDepth) return [];
  if (Array.isArray(value))
    return value.slice(0, 20).flatMap((v, i) => [[...prefix, i], ...pathsOf(v, [...prefix, i], maxDepth)]);
  if (value !== null && typeof value === 'object') {
    return Object.entries(value)
      .slice(0, 20)
      .flatMap(([k, v]) => [[...prefix, k], ...pathsOf(v, [...prefix, k], maxDepth)]);
  }
  return [];
}

/** A copy of `value` with the field at `path` removed (`replacement` undefined) or replaced. */
export function mutateAt(value: unknown, path: Path, replacement: unknown, remove: boolean): unknown {
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let parent: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (last === undefined) return replacement;
  if (remove) {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else parent[last] = replacement;
  return copy;
}

/** A valid body with one to three mutations: a field dropped, replaced by a nasty value, or an unknown field added. */
export const mutatedBody: fc.Arbitrary<unknown> = fc
  .tuple(
    validBody,
    fc.array(fc.tuple(fc.nat(), nastyValue, fc.constantFrom('drop', 'replace', 'add')), { minLength: 1, maxLength: 3 }),
  )
  .map(([body, mutations]) => {
    let current: unknown = body;
    for (const [pick, replacement, kind] of mutations) {
      const paths = pathsOf(current);
      if (kind === 'add' || paths.length === 0) {
        if (current !== null && typeof current === 'object' && !Array.isArray(current))
          current = { ...current, [`extra${pick % 5}`]: replacement };
        continue;
      }
      current = mutateAt(current, paths[pick % paths.length] ?? [], replacement, kind === 'drop');
    }
    return current;
  });

/** Header values an HTTP client can actually send (visible latin-1, no CR/LF), including junk. */
export const headerValue: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 300 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
  fc.stringMatching(/^[\x21-\x7e]{0,300}$/),
  fc.constantFrom('', ' ', 'a'.repeat(256), 'a'.repeat(255), 'key with spaces', '\t', '%00', 'null', '{}'),
);

/** Content types, from sensible to nonsense. */
export const contentType: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'application/json; charset=latin1',
    'APPLICATION/JSON',
    'text/plain',
    'text/html',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/octet-stream',
    'application/xml',
    'application/*',
    '*/*',
    'json',
    ';',
  ),
  headerValue,
);

/** Arbitrary bytes, sometimes almost JSON. */
export const garbageBytes: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 2_000 }).map((a) => Buffer.from(a)),
  fc.string({ unit: 'binary', maxLength: 500 }).map((s) => Buffer.from(s, 'utf8')),
  fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v).slice(0, -1), 'utf8')),
  fc.constantFrom(
    Buffer.from('{'),
    Buffer.from('[]'),
    Buffer.from('null'),
    Buffer.from('\ufeff{}'),
    Buffer.from([0xff, 0xfe, 0x00]),
  ),
);
