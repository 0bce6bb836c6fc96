// The shortcut table, the idle watch and the data-size wording on their own.
import { afterEach, describe, expect, it, vi } from "vitest";
import { FOCUS_TARGETS, SHORTCUTS, ariaKeys, matchShortcut } from "./shortcuts";
import { watchIdle } from "./idle";
import { dataSize } from "./data-size";
import { catalogs } from "./i18n/index.svelte";

const key = (init: KeyboardEventInit) => new KeyboardEvent("keydown", init);

describe("matchShortcut", () => {
  it("matches Alt+letter on the physical key, whatever character it types", () => {
    // macOS Option+L types "¬"; the Chinese input method may report "Process".
    expect(matchShortcut(key({ code: "KeyL", key: "¬", altKey: true }))?.action).toBe("lock");
    expect(matchShortcut(key({ code: "Digit1", key: "1", altKey: true }))?.action).toBe("queue");
    expect(matchShortcut(key({ key: "F1", code: "F1" }))?.action).toBe("help");
    expect(matchShortcut(key({ key: "Escape" }))?.action).toBe("close");
  });

  it("leaves the webview's keys, AltGr, Alt+Shift and input-method composition alone", () => {
    for (const init of [
      { code: "KeyS", key: "s", ctrlKey: true },
      { code: "KeyS", key: "ś", ctrlKey: true, altKey: true },
      { code: "KeyS", key: "S", altKey: true, shiftKey: true },
      { code: "KeyS", key: "s", metaKey: true, altKey: true },
      { code: "KeyS", key: "s", altKey: true, isComposing: true },
      { code: "KeyL", key: "l" },
      { key: "F5", code: "F5" },
      { key: "F12", code: "F12" },
    ] satisfies KeyboardEventInit[]) {
      expect(matchShortcut(key(init)), JSON.stringify(init)).toBeNull();
    }
  });

  it("uses no Ctrl combination and no key the webview needs", () => {
    const keys = SHORTCUTS.flatMap((s) => s.keys);
    expect(keys.filter((k) => /ctrl|F5|F12/i.test(k))).toEqual([]);
  });

  it("describes every shortcut in both languages and names focus targets only for app moves", () => {
    for (const shortcut of SHORTCUTS) {
      expect(catalogs["zh-CN"][shortcut.label]).toBeTruthy();
      expect(catalogs.en[shortcut.label]).toBeTruthy();
    }
    for (const action of Object.keys(FOCUS_TARGETS)) {
      expect(SHORTCUTS.find((s) => s.action === action)?.scope).toBe("app");
    }
    expect(ariaKeys("help")).toBe("F1 Alt+/");
  });
});

describe("watchIdle", () => {
  afterEach(() => vi.useRealTimers());

  it("fires once after the quiet time, and activity starts the wait again", () => {
    vi.useFakeTimers();
    const target = new EventTarget();
    const idle = vi.fn();
    const stop = watchIdle(target, 60_000, idle);
    vi.advanceTimersByTime(59_000);
    target.dispatchEvent(new Event("pointermove"));
    vi.advanceTimersByTime(59_000);
    expect(idle, "moved the mouse a minute ago").not.toHaveBeenCalled();
    vi.advanceTimersByTime(1_000);
    expect(idle).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(600_000);
    expect(idle, "once, not over and over").toHaveBeenCalledTimes(1);
    stop();
  });

  it("stops watching when told", () => {
    vi.useFakeTimers();
    const idle = vi.fn();
    const stop = watchIdle(new EventTarget(), 1_000, idle);
    stop();
    vi.advanceTimersByTime(5_000);
    expect(idle).not.toHaveBeenCalled();
  });
});

describe("dataSize", () => {
  it("says KB under a megabyte and MB with one decimal above", () => {
    expect(dataSize(0)).toBe("0 KB");
    expect(dataSize(1)).toBe("1 KB");
    expect(dataSize(512 * 1024)).toBe("512 KB");
    expect(dataSize(1536 * 1024)).toBe("1.5 MB");
    expect(dataSize(-5)).toBe("0 KB");
  });
});
