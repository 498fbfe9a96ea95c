/**
 * Settles like `promise`, or rejects with `Error(\`${what} timed out after ${ms} ms\`)` once `ms` passed. The
 * underlying operation is not cancelled: callers that must not overlap it have to wait for it themselves.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what = 'operation'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
