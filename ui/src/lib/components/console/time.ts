// How the console says time: an exact wait ("3 分 20 秒", as My day says a
// duration), a rough span ("12 分钟", for how long a link has been down or
// how old a kept view is), and calendar days as the platform's reports
// name them (`YYYY-MM-DD`, this PC's days). Pure, apart from the language.

import { t } from "../../i18n/index.svelte";

/** Seconds as a wait to the second: "45 秒", "3 分 20 秒", "1 小时 5 分". */
export function duration(secs: number): string {
  const whole = Math.max(0, Math.round(secs));
  if (whole < 60) return t("duration.seconds", { s: whole });
  if (whole < 3600) return t("duration.minutes", { m: Math.floor(whole / 60), s: whole % 60 });
  return t("duration.hours", { h: Math.floor(whole / 3600), m: Math.floor((whole % 3600) / 60) });
}

/** Seconds as a rough span: "40 秒", "12 分钟", "2 小时 5 分钟", "3 天". */
export function span(secs: number): string {
  const whole = Math.max(0, Math.floor(secs));
  if (whole < 60) return t("console.span.seconds", { s: whole });
  if (whole < 3600) return t("console.span.minutes", { m: Math.floor(whole / 60) });
  if (whole < 86_400) {
    return t("console.span.hours", {
      h: Math.floor(whole / 3600),
      m: Math.floor((whole % 3600) / 60),
    });
  }
  return t("console.span.days", { d: Math.floor(whole / 86_400) });
}

/** A PC-local calendar day as `YYYY-MM-DD`. */
export function isoDay(at: Date): string {
  const month = String(at.getMonth() + 1).padStart(2, "0");
  const day = String(at.getDate()).padStart(2, "0");
  return `${at.getFullYear()}-${month}-${day}`;
}

/** The day `days` before the day of `now` (PC clock), as `YYYY-MM-DD`. */
export function daysBefore(days: number, now: number = Date.now()): string {
  const at = new Date(now);
  at.setDate(at.getDate() - days);
  return isoDay(at);
}

/** Days from `from` to `to` (`YYYY-MM-DD`), both counted; 0 when `to` is before `from`. */
export function daysInRange(from: string, to: string): number {
  const start = Date.parse(`${from}T00:00:00Z`);
  const end = Date.parse(`${to}T00:00:00Z`);
  if (Number.isNaN(start) || Number.isNaN(end) || end < start) return 0;
  return Math.round((end - start) / 86_400_000) + 1;
}
