// Small formatters the desk shares: money, elapsed time, dates and times,
// and filling a script's {placeholders}. Pure functions, tested in format.test.ts.

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

// Dates and times are written out here rather than with `toLocale…String`
// or `Intl.DateTimeFormat`: the first such call makes WebKit's web process
// load ICU's date-formatting code and data, about 2 MiB that stay for the
// life of the window (decision 0051), for the two languages the desk speaks
// and a handful of fixed forms. The forms are those ICU gives for `zh-CN`
// and `en` (format.test.ts compares them), except that midnight is 00:xx,
// never ICU's "24:xx" of English with `hour12: false`.

const MONTHS_EN = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

const two = (n: number) => n.toString().padStart(2, "0");
const isChinese = (locale: string) => locale.toLowerCase().startsWith("zh");

/** A time of day, 24-hour, in either language: "14:05:09". */
export function timeOfDay(ms: number, locale: string): string {
  void locale;
  const at = new Date(ms);
  return `${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}`;
}

/** A date with its year: "2026/12/5" in Chinese, "12/5/2026" in English. */
export function calendarDate(ms: number, locale: string): string {
  const at = new Date(ms);
  const [y, m, d] = [at.getFullYear(), at.getMonth() + 1, at.getDate()];
  return isChinese(locale) ? `${y}/${m}/${d}` : `${m}/${d}/${y}`;
}

/** A month and day, short: "12/5" in either language. */
export function monthDay(ms: number, locale: string): string {
  void locale;
  const at = new Date(ms);
  return `${at.getMonth() + 1}/${at.getDate()}`;
}

/** A date and time, 24-hour: "2026/12/5 14:05:09", "12/5/2026, 14:05:09". */
export function dateTime(ms: number, locale: string): string {
  const separator = isChinese(locale) ? " " : ", ";
  return `${calendarDate(ms, locale)}${separator}${timeOfDay(ms, locale)}`;
}

/**
 * The date `days` after today, as a customer reads it in a reply:
 * "12月1日" in Chinese, "December 1" in English.
 */
export function dayFromToday(days: number, locale: string, now: number = Date.now()): string {
  const at = new Date(now);
  at.setDate(at.getDate() + days);
  const [m, d] = [at.getMonth() + 1, at.getDate()];
  return isChinese(locale) ? `${m}月${d}日` : `${MONTHS_EN[m - 1]} ${d}`;
}
