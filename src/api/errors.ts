import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';

/** An error answer the API gives on purpose (4xx/503), with a stable machine-readable code. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly issues?: Array<{ path: string; message: string }>,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Body of every error answer. */
export function errorBody(
  statusCode: number,
  code: string,
  message: string,
  issues?: Array<{ path: string; message: string }>,
) {
  return { statusCode, error: REASONS[statusCode] ?? 'Error', code, message, ...(issues ? { issues } : {}) };
}

/**
 * Maps every error to a JSON answer: validation → 400 with each field at fault, fastify's body/content-type
 * errors → their 4xx, `ApiError` → as thrown, anything else → 500 without details (logged, never echoed).
 */
export function createErrorHandler(logger: Logger) {
  return (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const issues = err.validation.map((v) => {
        const where = err.validationContext ?? 'body';
        const path = v.instancePath.replace(/^\//, '').replaceAll('/', '.');
        return {
          path: where === 'body' ? path || '(body)' : `${where}${path ? `.${path}` : ''}`,
          message: v.message ?? 'invalid',
        };
      });
      return reply
        .code(400)
        .send(
          errorBody(
            400,
            'VALIDATION_FAILED',
            `Invalid request: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
            issues,
          ),
        );
    }
    if (err instanceof ApiError) {
      if (err.headers) void reply.headers(err.headers);
      return reply.code(err.statusCode).send(errorBody(err.statusCode, err.code, err.message, err.issues));
    }
    const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
    if (status >= 400 && status < 500) {
      const code = err.code ?? 'BAD_REQUEST';
      let message = err.message;
      if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
        message = `Unsupported Content-Type ${JSON.stringify(request.headers['content-type'] ?? '')}: send application/json`;
      else if (code === 'FST_ERR_CTP_BODY_TOO_LARGE')
        message = 'Request body is larger than the configured limit (HTTP_BODY_LIMIT_BYTES)';
      else if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY') message = 'Request body is empty: send a JSON object';
      else if (err instanceof SyntaxError || code === 'FST_ERR_CTP_INVALID_JSON_BODY')
        message = `Malformed JSON: ${err.message}`;
      return reply.code(status).send(errorBody(status, code, message));
    }
    // Routes under /v1/notifications/:id concern one notification: name it, so its log lines can all be found.
    const params = request.params as { id?: unknown } | undefined;
    const notificationId = typeof params?.id === 'string' ? params.id : undefined;
    logger.error({ err, reqId: request.id, notificationId, route: request.routeOptions.url }, 'unhandled error');
    return reply.code(500).send(errorBody(500, 'INTERNAL', 'Internal error; it has been logged'));
  };
}
