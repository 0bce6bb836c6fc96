// Small formatters the conversation area shares: money, elapsed time, and
// filling a script's {placeholders}. Pure functions, tested in format.test.ts.

/** Fen (1/100 yuan, an integer) as yuan: 1230 → "¥12.30", 123456 → "¥1,234.56". */
export function formatYuan(fen: number): string {
  const sign = fen < 0 ? "-" : "";
  const abs = Math.abs(Math.trunc(fen));
  const yuan = Math.floor(abs / 100)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const cents = (abs % 100).toString().padStart(2, "0");
  return `${sign}¥${yuan}.${cents}`;
}

/** Elapsed seconds as mm:ss (minutes keep counting past 59): 187 → "03:07". */
export function clock(seconds: number): string {
  const whole = Math.max(0, Math.floor(seconds));
  const minutes = Math.floor(whole / 60)
    .toString()
    .padStart(2, "0");
  const rest = (whole % 60).toString().padStart(2, "0");
  return `${minutes}:${rest}`;
}

/** Seconds since a contact began as m:ss, like the score report's reasons: 150 → "2:30". */
export function offset(seconds: number): string {
  const whole = Math.max(0, Math.floor(seconds));
  return `${Math.floor(whole / 60)}:${(whole % 60).toString().padStart(2, "0")}`;
}

/** Seconds from `since` to `now` (both in ms), never negative. */
export function elapsedSecs(since: number, now: number): number {
  return Math.max(0, Math.floor((now - since) / 1000));
}

/**
 * Fills `{name}` placeholders whose value is known; unknown ones stay as they
 * are, so the agent sees what to say in their own words.
 */
export function fillKnown(text: string, values: Record<string, string>): string {
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = values[name];
    return value === undefined || value === "" ? whole : value;
  });
}

/** A time of day in the interface language, 24-hour: "14:05:09". */
export function timeOfDay(ms: number, locale: string): string {
  return new Date(ms).toLocaleTimeString(locale, { hour12: false });
}

/** A date and time in the interface language, 24-hour. */
export function dateTime(ms: number, locale: string): string {
  return new Date(ms).toLocaleString(locale, { hour12: false });
}

/**
 * The date `days` after today, as a customer reads it in a reply:
 * "12月1日" in Chinese, "December 1" in English.
 */
export function dayFromToday(days: number, locale: string, now: number = Date.now()): string {
  const at = new Date(now);
  at.setDate(at.getDate() + days);
  return at.toLocaleDateString(locale, { month: "long", day: "numeric" });
}
