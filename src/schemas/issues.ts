import type { z } from 'zod';

/** Turns zod issues into `{ path, message }` pairs with dotted paths (`deliveries.0.to`). */
export function issuesFromZod(
  issues: readonly z.core.$ZodIssue[],
  prefix = '',
): Array<{ path: string; message: string }> {
  return issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.');
    return { path: path === '' ? '(body)' : path, message: issue.message };
  });
}
