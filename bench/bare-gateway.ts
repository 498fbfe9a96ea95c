import Fastify from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { newNotificationId } from '../src/api/ids.js';
import { notificationRequestSchema } from '../src/schemas/index.js';

/**
 * Baseline (b) of the gateway benchmark, run as its own process: a bare fastify route with the same zod validation
 * as `POST /v1/notifications` and no Kafka write. Port from argv[2] (0 = any); prints `listening <port>` when ready.
 */
async function main(): Promise<void> {
  const app = Fastify({ logger: false, disableRequestLogging: true });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app
    .withTypeProvider<ZodTypeProvider>()
    .post('/v1/notifications', { schema: { body: notificationRequestSchema } }, async (_request, reply) => {
      const id = newNotificationId();
      return reply.code(202).send({ id, status: 'accepted' });
    });
  const address = await app.listen({ host: '127.0.0.1', port: Number(process.argv[2] ?? 0) });
  console.log(`listening ${new URL(address).port}`);
  const stop = () => void app.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
