/** Quiet hours of a recipient: local wall-clock times `HH:MM` or `HH:MM:SS`; `start` > `end` spans midnight. */
export interface QuietHours {
  start: string;
  end: string;
}

/** `HH:MM` or `HH:MM:SS`, 24-hour clock. */
export const CLOCK_TIME = /^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$/;

function secondsOfDay(clock: string): number {
  const m = CLOCK_TIME.exec(clock);
  if (m === null) throw new Error(`invalid clock time ${clock}`);
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3] ?? 0);
}

/** Seconds since local midnight of `at` in `timeZone`. */
function localSecondsOfDay(at: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return get('hour') * 3600 + get('minute') * 60 + get('second');
}

/** Whether `timeZone` is an IANA zone this runtime knows (e.g. `Europe/Paris`, `UTC`). */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/**
 * When `at` falls inside the quiet window (in the recipient's time zone, default UTC), the instant the window
 * ends; otherwise undefined. A window whose start equals its end is empty. Computed from the local wall-clock
 * distance to `end`, so a DST change inside the window can shift the release by that hour's difference.
 */
export function quietUntil(quiet: QuietHours, timeZone: string | undefined, at: Date): Date | undefined {
  const start = secondsOfDay(quiet.start);
  const end = secondsOfDay(quiet.end);
  if (start === end) return undefined;
  const now = localSecondsOfDay(at, timeZone ?? 'UTC');
  const inside = start < end ? now >= start && now < end : now >= start || now < end;
  if (!inside) return undefined;
  const wait = (end - now + 86_400) % 86_400;
  // Whole seconds: the local clock has no sub-second part, so drop the instant's milliseconds.
  return new Date(Math.floor(at.getTime() / 1000) * 1000 + wait * 1000);
}
