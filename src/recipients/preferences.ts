/**
 * A recipient's preferences: per channel, and per category (optionally per channel inside a category). `true` is
 * opted in, `false` opted out; absent entries fall back to the operator's defaults.
 */
export interface Preferences {
  channels?: Partial<Record<string, boolean>>;
  categories?: Record<string, { enabled?: boolean; channels?: Partial<Record<string, boolean>> }>;
}

/** Operator defaults (config): categories that need an explicit opt-in, and urgent categories that bypass quiet hours. */
export interface PreferenceDefaults {
  optInCategories: readonly string[];
  urgentCategories: readonly string[];
}

/**
 * Whether the recipient accepts `channel` for `category`. The most specific setting wins: category + channel, then a
 * category-wide opt-out, then a channel-wide opt-out, then a category-wide opt-in, then the operator default
 * (categories listed as opt-in only are off until the recipient opts in).
 */
export function acceptsDelivery(
  prefs: Preferences,
  channel: string,
  category: string | undefined,
  defaults: PreferenceDefaults,
): boolean {
  const cat = category !== undefined ? prefs.categories?.[category] : undefined;
  const specific = cat?.channels?.[channel];
  if (specific !== undefined) return specific;
  if (cat?.enabled === false) return false;
  if (prefs.channels?.[channel] === false) return false;
  if (cat?.enabled === true) return true;
  if (category !== undefined && defaults.optInCategories.includes(category)) return false;
  return true;
}
