import { describe, expect, it } from "vitest";
import {
  clock,
  dayFromToday,
  elapsedSecs,
  fillKnown,
  formatYuan,
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
  });
});
