import { WorkflowNotFoundError } from '@temporalio/client';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { NotificationState } from '../../shared/notification.js';
import { RECIPIENT_STORE_UNAVAILABLE } from '../../shared/notification.js';
import type { AcceptanceCache } from '../acceptance-cache.js';
import { clientIdOf } from '../plugins/auth.js';
import { issuesFromZod } from '../../schemas/issues.js';
import { ApiError, errorBody } from '../errors.js';
import { isNotificationId } from '../ids.js';
import {
  acceptedSchema,
  batchItemSchema,
  batchResultSchema,
  errorSchema,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  notificationRequestSchema,
  statusSchema,
} from '../../schemas/notification.js';
import type { Submitter } from '../submitter.js';
import type { GatewayDeps } from '../types.js';
import { assertTemplate, checkTemplate } from './templates.js';
import { withTimeout } from '../../runtime/with-timeout.js';

const idempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .min(1, 'Idempotency-Key must not be empty')
    .max(MAX_IDEMPOTENCY_KEY_LENGTH, `Idempotency-Key is at most ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`)
    .regex(/^[\x21-\x7e]+$/, 'Idempotency-Key must be printable ASCII without spaces')
    .optional()
    .describe('Makes retries safe: the same key and body always yield the same notification id.'),
  traceparent: z.string().max(128).optional(),
});
/**
 * The submit routes answer objects built right here (typed against the same schemas), so they are serialised with
 * plain `JSON.stringify` instead of being re-validated by zod on every answer; the schemas still document them.
 */
const plainJson = () => (data: unknown) => JSON.stringify(data);

const idParams = z.object({ id: z.string().max(64).describe('Notification id (ntf_…)') });

/**
 * Client identity: the name of the caller's API key (`anonymous` with AUTH_DISABLED). It scopes idempotency keys and
 * owns the notifications it creates: another client's notification answers 404, exactly like a missing one.
 */
const clientOf = clientIdOf;

/** Whether a workflow belongs to `clientId` (its memo records the creator; created by the gateway from the key name). */
function ownedBy(lookup: { memo?: { clientId?: unknown } }, clientId: string): boolean {
  return lookup.memo?.clientId === clientId;
}

/** The notification routes: submit, batch submit, status, cancel, retry. */
export function registerNotificationRoutes(
  app: FastifyInstance,
  deps: GatewayDeps,
  submitter: Submitter,
  cache: AcceptanceCache,
): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const disabled: ReadonlySet<string> = new Set(deps.config.DISABLED_CHANNELS ?? []);
  const base = deps.config.PUBLIC_BASE_URL?.replace(/\/$/, '') ?? '';
  const links = (id: string) => ({
    self: `${base}/v1/notifications/${id}`,
    cancel: `${base}/v1/notifications/${id}/cancel`,
    retry: `${base}/v1/notifications/${id}/retry`,
    temporalUi: `${deps.config.TEMPORAL_UI_URL.replace(/\/$/, '')}/namespaces/${encodeURIComponent(deps.config.TEMPORAL_NAMESPACE)}/workflows/${id}`,
  });

  r.post(
    '/v1/notifications',
    {
      config: { scope: 'send' },
      serializerCompiler: plainJson,
      schema: {
        tags: ['notifications'],
        summary: 'Submit one notification',
        description:
          'Answers 202 once the notification is durably written to Kafka (acks=all). 503 + Retry-After when Kafka is unavailable.',
        headers: idempotencyHeaders,
        body: notificationRequestSchema,
        response: {
          202: acceptedSchema,
          400: errorSchema,
          401: errorSchema,
          403: errorSchema,
          413: errorSchema,
          415: errorSchema,
          422: errorSchema,
          429: errorSchema,
          500: errorSchema,
          503: errorSchema,
        },
      },
    },
    async (request, reply) => {
      const disabledIssues = disabledChannelIssues(request.body, disabled, '');
      if (disabledIssues.length > 0)
        throw new ApiError(
          400,
          'CHANNEL_DISABLED',
          `Invalid request: ${disabledIssues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
          disabledIssues,
        );
      assertTemplate(deps.templates, request.body);
      await checkRecipient(deps, clientOf(request), request.body.recipient);
      const { id, replay } = await submitter.submit(
        clientOf(request),
        request.headers['idempotency-key'],
        request.body,
        request.headers.traceparent,
      );
      if (replay) void reply.header('idempotency-replay', 'true');
      const l = links(id);
      return reply
        .code(202)
        .header('location', l.self)
        .send({ id, status: 'accepted' as const, links: l });
    },
  );

  r.post(
    '/v1/notifications/batch',
    {
      config: { scope: 'send' },
      serializerCompiler: plainJson,
      schema: {
        tags: ['notifications'],
        summary: 'Submit several notifications',
        description:
          'Each item is validated and written on its own; the answer lists a result per item (202, 400, 422 or 503).',
        headers: idempotencyHeaders.pick({ traceparent: true }),
        body: z.object({
          notifications: z
            .array(z.unknown())
            .min(1)
            .max(deps.config.BATCH_MAX_ITEMS)
            .describe('Items shaped like BatchItem'),
        }),
        response: {
          207: batchResultSchema,
          400: errorSchema,
          401: errorSchema,
          403: errorSchema,
          413: errorSchema,
          415: errorSchema,
          429: errorSchema,
        },
      },
    },
    async (request, reply) => {
      const clientId = clientOf(request);
      const results = await Promise.all(
        request.body.notifications.map(async (item, index) => {
          const parsed = batchItemSchema.safeParse(item);
          if (!parsed.success) {
            const issues = issuesFromZod(parsed.error.issues, `notifications.${index}`);
            return { index, status: 400, error: errorBody(400, 'VALIDATION_FAILED', `Invalid item ${index}`, issues) };
          }
          const { idempotencyKey, ...notification } = parsed.data;
          const disabledIssues = disabledChannelIssues(notification, disabled, `notifications.${index}.`);
          if (disabledIssues.length > 0)
            return {
              index,
              status: 400,
              error: errorBody(400, 'CHANNEL_DISABLED', `Invalid item ${index}`, disabledIssues),
            };
          const rejection = checkTemplate(deps.templates, notification, `notifications.${index}.`);
          if (rejection !== undefined)
            return {
              index,
              status: 400,
              error: errorBody(400, rejection.code, `Invalid item ${index}: ${rejection.message}`, rejection.issues),
            };
          try {
            await checkRecipient(deps, clientId, notification.recipient);
            const { id, replay } = await submitter.submit(
              clientId,
              idempotencyKey,
              notification,
              request.headers.traceparent,
            );
            return { index, status: 202, id, replay };
          } catch (err) {
            if (err instanceof ApiError)
              return { index, status: err.statusCode, error: errorBody(err.statusCode, err.code, err.message) };
            // Other items may already be written: failing the whole request would make a resubmission duplicate them.
            request.log.error({ err, reqId: request.id, index }, 'unhandled error in a batch item');
            return { index, status: 500, error: errorBody(500, 'INTERNAL', 'Internal error; it has been logged') };
          }
        }),
      );
      const accepted = results.filter((x) => x.status === 202).length;
      return reply.code(207).send({ accepted, rejected: results.length - accepted, results });
    },
  );

  r.get(
    '/v1/notifications/:id',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['notifications'],
        summary: 'Status of a notification',
        params: idParams,
        response: {
          200: statusSchema,
          400: errorSchema,
          401: errorSchema,
          403: errorSchema,
          404: errorSchema,
          429: errorSchema,
          503: errorSchema,
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const notFound = new ApiError(404, 'NOT_FOUND', `No notification ${id}`);
      if (!isNotificationId(id)) throw notFound;
      const clientId = clientOf(request);
      const found = await temporalCall('status', id, request.log, () => deps.notifications.lookup(id));
      const lookup = found !== undefined && ownedBy(found, clientId) ? found : undefined;
      if (lookup === undefined) {
        const accepted = found === undefined ? cache.getOwned(id, clientId) : undefined;
        if (accepted === undefined) throw notFound;
        return reply.send({
          id,
          status: 'accepted' as const,
          deliveries: [],
          acceptedAt: accepted.acceptedAt,
          links: links(id),
        });
      }
      const state: Partial<NotificationState> = lookup.state ?? {};
      const pending = lookup.pendingActivities[0];
      const deliveries = (state.deliveries ?? []).map(({ resolvedTo: _resolvedTo, ...d }) => ({
        ...d,
        ...(d.status === 'sending' && pending !== undefined && lookup.pendingActivities.length === 1
          ? { currentAttempt: pending.attempt }
          : {}),
        ...(d.status === 'sending' &&
        lookup.pendingActivities.some((a) => a.lastFailureType === RECIPIENT_STORE_UNAVAILABLE)
          ? { waitingFor: 'recipient-database' }
          : {}),
      }));
      return reply.send({
        id,
        status: state.status ?? lookup.statusFromSearchAttribute ?? 'accepted',
        routing: state.routing,
        sendAt: state.sendAt,
        metadata: state.metadata,
        tags: state.tags,
        deliveries,
        acceptedAt: state.acceptedAt,
        updatedAt: state.updatedAt,
        completedAt: state.completedAt,
        awaitingRetryUntil: state.awaitingRetryUntil,
        heldUntil: state.heldUntil,
        recipient: state.recipient,
        category: state.category,
        digestedInto: state.digestedInto,
        links: links(id),
      });
    },
  );

  const action = (name: 'cancel' | 'retry') =>
    r.post(
      `/v1/notifications/:id/${name}`,
      {
        config: { scope: 'admin' },
        schema: {
          tags: ['notifications'],
          summary:
            name === 'cancel'
              ? 'Cancel a notification that has not been sent yet'
              : 'Re-drive the failed deliveries of a notification',
          params: idParams,
          response: {
            202: z.object({ id: z.string(), requested: z.literal(name) }),
            400: errorSchema,
            401: errorSchema,
            403: errorSchema,
            404: errorSchema,
            409: errorSchema,
            429: errorSchema,
            503: errorSchema,
          },
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        if (!isNotificationId(id)) throw new ApiError(404, 'NOT_FOUND', `No notification ${id}`);
        const clientId = clientOf(request);
        const found = await temporalCall('status', id, request.log, () => deps.notifications.lookup(id));
        const lookup = found !== undefined && ownedBy(found, clientId) ? found : undefined;
        if (lookup === undefined) {
          if (found === undefined && cache.getOwned(id, clientId) !== undefined) {
            throw new ApiError(
              409,
              'NOT_STARTED_YET',
              'The notification was accepted but is not started yet; retry in a moment.',
              undefined,
              { 'retry-after': '1' },
            );
          }
          throw new ApiError(404, 'NOT_FOUND', `No notification ${id}`);
        }
        const status = lookup.state?.status ?? lookup.statusFromSearchAttribute;
        if (lookup.runStatus !== 'RUNNING')
          throw new ApiError(409, 'ALREADY_COMPLETED', `The notification is already ${status ?? 'completed'}.`);
        if (name === 'cancel' && status !== 'scheduled' && status !== 'failed' && status !== 'held') {
          throw new ApiError(
            409,
            'NOT_CANCELLABLE',
            `Only scheduled, held (quiet hours) or failed (awaiting retry) notifications can be cancelled; this one is ${status ?? 'unknown'}.`,
          );
        }
        if (name === 'retry' && status !== 'failed') {
          throw new ApiError(
            409,
            'NOT_RETRYABLE',
            `Only failed notifications can be retried; this one is ${status ?? 'unknown'}.`,
          );
        }
        await temporalCall(name, id, request.log, () =>
          name === 'cancel' ? deps.notifications.cancel(id) : deps.notifications.retry(id),
        );
        return reply.code(202).send({ id, requested: name });
      },
    );
  action('cancel');
  action('retry');
}

/** One issue per delivery on a channel this deployment disabled (DISABLED_CHANNELS), with its field path. */
function disabledChannelIssues(
  request: { deliveries: ReadonlyArray<{ channel: string }> },
  disabled: ReadonlySet<string>,
  prefix: string,
): Array<{ path: string; message: string }> {
  if (disabled.size === 0) return [];
  return request.deliveries.flatMap((d, i) =>
    disabled.has(d.channel)
      ? [
          {
            path: `${prefix}deliveries.${i}.channel`,
            message: `channel ${d.channel} is disabled on this deployment (DISABLED_CHANNELS)`,
          },
        ]
      : [],
  );
}

/** What the route was doing when Temporal failed: named in the answer instead of Temporal's own error text. */
type TemporalStep = 'status' | 'cancel' | 'retry';

const STEP_FAILURE: Record<TemporalStep, string> = {
  status: 'the status could not be read from Temporal',
  cancel: 'the cancel request could not be delivered to Temporal',
  retry: 'the retry request could not be delivered to Temporal',
};

/**
 * Runs a Temporal call for one notification. A workflow that closed between the lookup and a signal answers 409; any
 * other failure answers 503 naming the step that failed (Temporal's own error text is logged, never sent: it is
 * internal and may name hosts). Signals are safe to resend, so the 503 says to retry.
 */
/**
 * A notification naming a recipient that does not exist answers 404 at submit when the database can tell. When it
 * cannot (down, slow), the notification is accepted anyway: its delivery resolves the recipient later (and fails
 * with `unknown-recipient` if it still does not exist) — an outage never turns into lost notifications.
 */
async function checkRecipient(deps: GatewayDeps, clientId: string, recipient: string | undefined): Promise<void> {
  if (recipient === undefined || deps.recipients === undefined) return;
  let exists: boolean;
  try {
    exists = await withTimeout(deps.recipients.exists(clientId, recipient), 1_000, 'recipient lookup');
  } catch (err) {
    deps.logger.warn(
      { err: { message: err instanceof Error ? err.message : String(err) } },
      'recipient check skipped: database unavailable; accepting',
    );
    return;
  }
  if (!exists)
    throw new ApiError(
      404,
      'UNKNOWN_RECIPIENT',
      `No recipient ${recipient} for this API key; create it with PUT /v1/recipients/${recipient}`,
      [{ path: 'recipient', message: 'unknown recipient' }],
    );
}

async function temporalCall<T>(
  step: TemporalStep,
  id: string,
  logger: FastifyBaseLogger,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApiError) throw err;
    if (step !== 'status' && err instanceof WorkflowNotFoundError) {
      throw new ApiError(
        409,
        'ALREADY_COMPLETED',
        `Notification ${id} finished before the ${step} request reached it; nothing was changed.`,
      );
    }
    logger.warn(
      {
        err: {
          name: err instanceof Error ? err.name : typeof err,
          message: err instanceof Error ? err.message : String(err),
        },
        notificationId: id,
        step,
      },
      'Temporal call failed; answering 503',
    );
    const again =
      step === 'status' ? 'retry in a moment' : `send the ${step} request again in a moment (repeating it is safe)`;
    throw new ApiError(
      503,
      'TEMPORAL_UNAVAILABLE',
      `Notification ${id}: ${STEP_FAILURE[step]}, which did not answer; ${again}.`,
      undefined,
      { 'retry-after': '2' },
    );
  }
}
