// Keyboard shortcuts: the one table both the app-wide key handler and the
// help dialog (and docs/shortcuts.md) read, so what is listed is what works.
//
// Keys the webview already uses are left alone: Ctrl+C/V/X/Z/A/F/R/P/W/Q,
// F5 and F12 keep their usual meaning. Alt+letter combinations are matched
// on the physical key (`code`), so they work with the Chinese input method
// on and on keyboards where Alt+letter types a symbol. AltGr (Ctrl+Alt) and
// Alt+Shift never trigger anything, so typing accented letters stays safe.

import type { MessageKey } from "./i18n/index.svelte";

export type ShortcutAction =
  "queue" | "composer" | "knowledge" | "lock" | "settings" | "myDay" | "help" | "close" | "rows";

/**
 * Who acts on a shortcut: the app-wide handler, the open dialog, or the
 * queue list while one of its rows has focus.
 */
export type ShortcutScope = "app" | "dialog" | "queue";

/** One physical key combination. */
interface Chord {
  /** `KeyboardEvent.code` (physical key) or, for named keys, `KeyboardEvent.key`. */
  code?: string;
  key?: string;
  alt: boolean;
}

export interface Shortcut {
  action: ShortcutAction;
  scope: ShortcutScope;
  /** The keys as printed in the help dialog and the docs. */
  keys: readonly string[];
  /** What it does, in the interface language. */
  label: MessageKey;
  chords: readonly Chord[];
}

export const SHORTCUTS: readonly Shortcut[] = [
  {
    action: "queue",
    scope: "app",
    keys: ["Alt+1"],
    label: "shortcut.queue",
    chords: [{ code: "Digit1", alt: true }],
  },
  {
    action: "composer",
    scope: "app",
    keys: ["Alt+2"],
    label: "shortcut.composer",
    chords: [{ code: "Digit2", alt: true }],
  },
  {
    action: "knowledge",
    scope: "app",
    keys: ["Alt+3"],
    label: "shortcut.knowledge",
    chords: [{ code: "Digit3", alt: true }],
  },
  {
    action: "lock",
    scope: "app",
    keys: ["Alt+L"],
    label: "shortcut.lock",
    chords: [{ code: "KeyL", alt: true }],
  },
  {
    action: "settings",
    scope: "app",
    keys: ["Alt+S"],
    label: "shortcut.settings",
    chords: [{ code: "KeyS", alt: true }],
  },
  {
    action: "myDay",
    scope: "app",
    keys: ["Alt+D"],
    label: "shortcut.myDay",
    chords: [{ code: "KeyD", alt: true }],
  },
  {
    action: "help",
    scope: "app",
    keys: ["F1", "Alt+/"],
    label: "shortcut.help",
    chords: [
      { key: "F1", alt: false },
      { code: "Slash", alt: true },
      { key: "/", alt: true },
    ],
  },
  {
    action: "close",
    scope: "dialog",
    keys: ["Esc"],
    label: "shortcut.close",
    chords: [{ key: "Escape", alt: false }],
  },
  {
    action: "rows",
    scope: "queue",
    keys: ["↑ ↓", "Home End", "PgUp PgDn"],
    label: "shortcut.rows",
    chords: [
      { key: "ArrowUp", alt: false },
      { key: "ArrowDown", alt: false },
      { key: "Home", alt: false },
      { key: "End", alt: false },
      { key: "PageUp", alt: false },
      { key: "PageDown", alt: false },
    ],
  },
];

function matches(chord: Chord, event: KeyboardEvent): boolean {
  if (event.altKey !== chord.alt || event.ctrlKey || event.metaKey || event.shiftKey) return false;
  return chord.code !== undefined ? event.code === chord.code : event.key === chord.key;
}

/** The shortcut a key press means, or null; nothing while an input method is composing. */
export function matchShortcut(event: KeyboardEvent): Shortcut | null {
  if (event.isComposing) return null;
  return SHORTCUTS.find((s) => s.chords.some((chord) => matches(chord, event))) ?? null;
}

/** Where Alt+1 / Alt+2 / Alt+3 move the focus; the first that exists wins. */
export const FOCUS_TARGETS: Partial<Record<ShortcutAction, readonly string[]>> = {
  queue: ["#queue-rows [data-primary]", "#queue-rows"],
  composer: ["#composer-body"],
  knowledge: ['[data-testid="knowledge-search"]'],
};

/** The keys of an action in `aria-keyshortcuts` form ("Alt+L", "F1 Alt+/"). */
export function ariaKeys(action: ShortcutAction): string {
  return SHORTCUTS.find((s) => s.action === action)?.keys.join(" ") ?? "";
}
