import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testLogger } from '../../test/helpers/kafka.js';
import { channelNames } from '../channels/registry.js';
import { mailboxSchema } from '../channels/email/schema.js';
import { loadConfig } from '../config/config.js';
import { generatePayloadKeyEntry, PayloadKeyring } from '../crypto/keyring.js';
import { acceptedSchema, batchResultSchema, errorSchema, statusSchema } from '../schemas/notification.js';
import type { WebhookEndpointStore } from '../events/store.js';
import { loadTemplateStore } from '../templates/index.js';
import { buildApp } from './app.js';

/** The OpenAPI document is one a client can use: bearer auth declared, examples for every body and response. */
interface Media {
  schema?: Record<string, unknown>;
  example?: unknown;
  examples?: Record<string, { summary?: string; value: unknown }>;
}
interface Operation {
  security?: unknown[];
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { content?: Record<string, Media> }>;
}
interface OpenApiDocument {
  components: { securitySchemes: Record<string, { type: string; scheme?: string }> };
  security: Array<Record<string, unknown>>;
  paths: Record<string, Record<string, Operation>>;
}

let app: FastifyInstance;
let doc: OpenApiDocument;

beforeAll(async () => {
  app = await buildApp({
    config: loadConfig({}),
    logger: testLogger,
    auth: { disabled: true },
    payloadKeyring: PayloadKeyring.fromSpec(generatePayloadKeyEntry('k1')),
    producer: { isConnected: () => true, send: () => Promise.resolve() },
    notifications: {
      lookup: () => Promise.resolve(undefined),
      memo: () => Promise.resolve(undefined),
      cancel: () => Promise.resolve(),
      retry: () => Promise.resolve(),
    },
    // The webhook-endpoint routes exist only with a store: a fake one that creates (the request example is sent).
    webhookEndpoints: {
      store: {
        create: (_owner: string, input: { url: string; eventTypes: string[] }) =>
          Promise.resolve({
            endpoint: { id: 'we_1', ...input, status: 'enabled', createdAt: 'now', updatedAt: 'now' },
            secret: 'whsec_x',
          }),
      } as unknown as WebhookEndpointStore,
      urlRules: { allowedNetworks: [], allowedHosts: [] },
      secretOverlapMs: 0,
      resolve: () => Promise.resolve([{ address: '93.184.215.14' }]),
    },
    templates: await loadTemplateStore({ dir: 'templates', defaultLocale: 'en' }),
  });
  doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<OpenApiDocument>();
});
afterAll(async () => {
  await app.close();
});

const operations = () =>
  Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, path, method, op })),
  );
const examplesOf = (media: Media | undefined): unknown[] => [
  ...(media?.example !== undefined ? [media.example] : []),
  ...Object.values(media?.examples ?? {}).map((e) => e.value),
];
const fill = (path: string) =>
  path.replace('{id}', 'ntf_0193b3c2a1b27c3d8e9f0a1b2c3d4e5f').replace('{name}', 'welcome');

describe('OpenAPI document (/openapi.json)', () => {
  it('declares the bearer security scheme, required everywhere except the health probes', () => {
    const schemes = Object.entries(doc.components.securitySchemes).filter(
      ([, s]) => s.type === 'http' && s.scheme === 'bearer',
    );
    expect(schemes).toHaveLength(1);
    expect(doc.security).toEqual([{ [schemes[0]![0]]: [] }]);
    expect(doc.paths['/healthz']?.get?.security).toEqual([]);
    expect(doc.paths['/readyz']?.get?.security).toEqual([]);
    expect(doc.paths['/v1/notifications']?.post?.security).toBeUndefined();
  });

  it('has at least one example for every request body and every response of every operation', () => {
    expect(operations().length).toBeGreaterThanOrEqual(13);
    const missing: string[] = [];
    for (const { name, op } of operations()) {
      for (const [type, media] of Object.entries(op.requestBody?.content ?? {}))
        if (examplesOf(media).length === 0) missing.push(`${name} request ${type}`);
      for (const [status, response] of Object.entries(op.responses)) {
        const content = Object.entries(response.content ?? {});
        // 204 No Content has, by definition, no body to give an example of.
        if (content.length === 0 && status !== '204') missing.push(`${name} ${status} (no content)`);
        for (const [type, media] of content)
          if (examplesOf(media).length === 0) missing.push(`${name} ${status} ${type}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('has one POST /v1/notifications example per channel, and every request example is accepted as it is', async () => {
    const submit = doc.paths['/v1/notifications']?.post?.requestBody?.content['application/json']?.examples ?? {};
    const channelsCovered = new Set(
      Object.values(submit).flatMap((e) =>
        (e.value as { deliveries: Array<{ channel: string }> }).deliveries.map((d) => d.channel),
      ),
    );
    expect([...channelsCovered].sort()).toEqual([...channelNames].sort());
    for (const { name, path, method, op } of operations()) {
      for (const example of examplesOf(op.requestBody?.content['application/json'])) {
        const res = await app.inject({
          method: method.toUpperCase() as 'POST',
          url: fill(path),
          payload: example as object,
        });
        expect(res.statusCode, `${name}: ${res.body}`).toBeLessThan(300);
        if (path === '/v1/notifications/batch') expect(res.json<{ rejected: number }>().rejected, name).toBe(0);
      }
    }
  });

  it('gives response examples that match the response schemas', () => {
    for (const { name, op } of operations()) {
      for (const [status, response] of Object.entries(op.responses)) {
        for (const example of examplesOf(response.content?.['application/json'])) {
          const code = Number(status);
          const schema =
            code >= 400 && name.includes('/v1/')
              ? errorSchema
              : name === 'GET /v1/notifications/{id}'
                ? statusSchema
                : name === 'POST /v1/notifications/batch'
                  ? batchResultSchema
                  : name === 'POST /v1/notifications'
                    ? acceptedSchema
                    : undefined;
          if (schema === undefined) continue;
          expect(schema.safeParse(example).success, `${name} ${status}`).toBe(true);
          if (schema === errorSchema) expect(example, `${name} ${status}`).toMatchObject({ statusCode: code });
        }
      }
    }
  });

  it('expresses the email from/replyTo rule as a JSON-Schema pattern that agrees with validation', () => {
    const text = JSON.stringify(doc.paths['/v1/notifications']?.post?.requestBody?.content['application/json']?.schema);
    const pattern = /"from":\{[^}]*"pattern":"((?:[^"\\]|\\.)*)"/.exec(text)?.[1];
    expect(pattern, 'from has a pattern').toBeDefined();
    expect(text).toMatch(/"replyTo":\{[^}]*"pattern":/);
    const regex = new RegExp(JSON.parse(`"${pattern}"`) as string);
    for (const value of [
      'ada@example.com',
      'Ada Lovelace <ada@example.com>',
      'Acme <hello@acme.example>',
      'ada@example',
      'Ada <ada@example.com',
      'Ada\r\n<ada@example.com>',
      '"Ada" <ada@example.com>',
      '<ada@example.com>',
      'x@y.zz',
    ]) {
      expect(regex.test(value), value).toBe(mailboxSchema.safeParse(value).success);
    }
  });
});
