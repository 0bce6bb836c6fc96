import { describe, expect, it } from "vitest";
import {
  calendarDate,
  clock,
  dateTime,
  dayFromToday,
  elapsedSecs,
  fillKnown,
  formatYuan,
  monthDay,
  offset,
  timeOfDay,
} from "./format";

describe("format", () => {
  it("shows fen as yuan with thousands separators", () => {
    expect(formatYuan(1230)).toBe("¥12.30");
    expect(formatYuan(123456)).toBe("¥1,234.56");
    expect(formatYuan(-5)).toBe("-¥0.05");
  });

  it("shows elapsed time as mm:ss, never negative", () => {
    expect(clock(187)).toBe("03:07");
    expect(clock(-3)).toBe("00:00");
    expect(elapsedSecs(10_000, 4_000)).toBe(0);
  });

  it("shows offsets into a contact as m:ss, like the score report's reasons", () => {
    expect(offset(150)).toBe("2:30");
    expect(offset(5.9)).toBe("0:05");
    expect(offset(3725)).toBe("62:05");
    expect(offset(-1)).toBe("0:00");
  });

  it("fills only the placeholders it knows", () => {
    expect(fillKnown("您好{customer_name}，{unknown}", { customer_name: "李阿姨" })).toBe(
      "您好李阿姨，{unknown}",
    );
  });

  it("writes dates the way a reply says them", () => {
    const noon = new Date(2026, 10, 30, 12).getTime();
    expect(dayFromToday(0, "zh-CN", noon)).toBe("11月30日");
    expect(dayFromToday(1, "zh-CN", noon)).toBe("12月1日");
    expect(dayFromToday(2, "en", noon)).toBe("December 2");
  });

  it("shows times of day on a 24-hour clock", () => {
    const evening = new Date(2026, 10, 30, 21, 5, 9).getTime();
    expect(timeOfDay(evening, "zh-CN")).toBe("21:05:09");
    expect(timeOfDay(evening, "en")).toBe("21:05:09");
  });

  it("shows dates and times in each language's own order", () => {
    const evening = new Date(2026, 11, 5, 21, 5, 9).getTime();
    expect(calendarDate(evening, "zh-CN")).toBe("2026/12/5");
    expect(calendarDate(evening, "en")).toBe("12/5/2026");
    expect(monthDay(evening, "zh-CN")).toBe("12/5");
    expect(monthDay(evening, "en")).toBe("12/5");
    expect(dateTime(evening, "zh-CN")).toBe("2026/12/5 21:05:09");
    expect(dateTime(evening, "en")).toBe("12/5/2026, 21:05:09");
  });

  it("writes midnight as 00, where English ICU with hour12: false says 24", () => {
    const late = new Date(2026, 0, 2, 0, 7, 3).getTime();
    expect(timeOfDay(late, "en")).toBe("00:07:03");
    expect(dateTime(late, "en")).toBe("1/2/2026, 00:07:03");
    expect(dateTime(late, "zh-CN")).toBe("2026/1/2 00:07:03");
  });

  it("writes what ICU writes for both languages, without calling it", () => {
    // Every month, days with one and two digits, hours after midnight.
    for (let month = 0; month < 12; month++) {
      for (const [day, hour] of [
        [1, 1],
        [9, 9],
        [10, 12],
        [28, 23],
      ] as const) {
        const at = new Date(2026, month, day, hour, 4, 59).getTime();
        for (const locale of ["zh-CN", "en"]) {
          const date = new Date(at);
          expect(timeOfDay(at, locale)).toBe(date.toLocaleTimeString(locale, { hour12: false }));
          expect(calendarDate(at, locale)).toBe(date.toLocaleDateString(locale));
          expect(monthDay(at, locale)).toBe(
            date.toLocaleDateString(locale, { month: "numeric", day: "numeric" }),
          );
          expect(dateTime(at, locale)).toBe(date.toLocaleString(locale, { hour12: false }));
          expect(dayFromToday(0, locale, at)).toBe(
            date.toLocaleDateString(locale, { month: "long", day: "numeric" }),
          );
        }
      }
    }
  });
});
