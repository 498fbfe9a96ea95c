import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { GatewayDeps } from '../types.js';

/** `/healthz`: the process is up. `/readyz`: the Kafka producer is connected, so submissions can be accepted. */
export function registerHealthRoutes(app: FastifyInstance, deps: GatewayDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get('/healthz', { schema: { tags: ['health'], response: { 200: z.object({ status: z.literal('ok') }) } } }, () => ({
    status: 'ok' as const,
  }));
  r.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        response: {
          200: z.object({ status: z.literal('ready'), kafka: z.boolean() }),
          503: z.object({ status: z.literal('not-ready'), kafka: z.boolean() }),
        },
      },
    },
    async (_req, reply) => {
      const kafka = deps.producer.isConnected();
      if (kafka) return reply.code(200).send({ status: 'ready' as const, kafka });
      return reply
        .code(503)
        .header('retry-after', '1')
        .send({ status: 'not-ready' as const, kafka });
    },
  );
}
