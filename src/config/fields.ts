import { z } from 'zod';
import { boolSetting } from '../channels/config-fields.js';

/** Field builders for environment settings: every value arrives as a string. */

/** An integer within [min, max] (strings are converted). */
export const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(def);
/** A number ≥ min (strings are converted). */
export const num = (def: number, min = 0) => z.coerce.number().min(min).default(def);
/** A boolean: the one parser shared with channel settings (`true/false/1/0/yes/no/on/off`, case-insensitive). */
export const flag = (def: boolean) => boolSetting(def);
/** A comma-separated list (blank entries dropped). */
export const csv = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0),
);
