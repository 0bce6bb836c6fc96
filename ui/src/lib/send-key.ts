// The key that sends from the reply box (a reply or an internal note):
// Enter, with Shift+Enter for a new line, or by the agent's choice in
// Settings Ctrl+Enter, with Enter for a new line. Nothing is sent while an
// input method is composing: the Enter that confirms a Chinese word belongs
// to the input method. WebKit reports that Enter with `isComposing` false
// but `keyCode` 229, so both are checked.

import type { SendKey } from "./host";
import type { MessageKey } from "./i18n/index.svelte";

/** An input method (pinyin, wubi…) is composing: its keys are not ours. */
export function composing(event: KeyboardEvent): boolean {
  return event.isComposing || event.keyCode === 229;
}

/** The key press sends the reply box's text, with the agent's `sendKey` choice. */
export function isSendKey(event: KeyboardEvent, sendKey: SendKey): boolean {
  if (event.key !== "Enter" || composing(event)) return false;
  if (event.altKey || event.metaKey || event.shiftKey) return false;
  return sendKey === "ctrl_enter" ? event.ctrlKey : !event.ctrlKey;
}

/** The reply box's keys for each choice, as the help, the hint and docs/shortcuts.md say them. */
export const SEND_KEY_HELP: Record<SendKey, readonly { keys: string; label: MessageKey }[]> = {
  enter: [
    { keys: "Enter", label: "sendKey.send" },
    { keys: "Shift+Enter", label: "sendKey.newLine" },
  ],
  ctrl_enter: [
    { keys: "Ctrl+Enter", label: "sendKey.send" },
    { keys: "Enter", label: "sendKey.newLine" },
  ],
};
