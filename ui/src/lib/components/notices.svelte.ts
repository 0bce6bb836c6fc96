// The in-app notices (what the OS could not show as a notification), oldest
// first and a few at most: each gets an id of its own to key and dismiss it
// by. The agent's preferences decide whether one shows at all
// (notifications off: none) and whether it chimes. NoticeArea.svelte draws
// them and dismisses them by itself after a while.

import type { Notice, Preferences } from "../host";
import { chime } from "../appearance";

/** A notice as the app keeps it: with an id of its own to key and dismiss by. */
export interface NoticeEntry {
  id: number;
  notice: Notice;
}

/** The most notices on screen; a new one pushes the oldest out. */
export const MAX_NOTICES = 5;

export class NoticeList {
  /** The notices shown, oldest first. */
  items = $state<NoticeEntry[]>([]);
  private nextId = 1;

  /** A notice arrived; `preferences` (null: not read yet) say whether it shows and chimes. */
  received(notice: Notice, preferences: Preferences | null) {
    if (preferences && !preferences.notifications) return;
    this.items = [...this.items, { id: this.nextId++, notice }].slice(-MAX_NOTICES);
    if (preferences?.sound ?? true) chime();
  }

  dismiss(id: number) {
    this.items = this.items.filter((n) => n.id !== id);
  }

  clear() {
    this.items = [];
  }
}
