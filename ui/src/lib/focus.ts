// Where the keyboard focus goes when the control that had it goes away
// (docs/shortcuts.md, "Where the focus goes"). One rule for the whole
// desk: an action never leaves the focus on <body>, which would throw a
// keyboard or screen-reader user back to the top of the window.
//
// - A control removed by its own action hands the focus to its neighbour
//   of the same kind (the next notice, the next refused action), else to
//   the desk landmark below.
// - The desk landmark: the reply box of the open conversation, else the
//   queue's first row, else the queue list itself; on the team console,
//   its selected tab (else its switch, for a trainer's single screen).

import { FOCUS_TARGETS } from "./shortcuts";

/** Nothing useful has the focus (it fell to <body> with a removed control). */
export function focusLost(): boolean {
  const here = document.activeElement;
  return here === null || here === document.body || !here.isConnected;
}

/** Where the focus lands on the team console (components/console/Console.svelte). */
const CONSOLE_LANDMARKS = [
  '[data-testid="console"] [role="tab"][aria-selected="true"]',
  '[data-testid="console"] h2',
];

/** Moves the focus to the desk landmark; false when there is none (signed out). */
export function focusDesk(): boolean {
  const target = [
    ...(FOCUS_TARGETS.composer ?? []),
    ...(FOCUS_TARGETS.queue ?? []),
    ...CONSOLE_LANDMARKS,
  ]
    .map((selector) => document.querySelector<HTMLElement>(selector))
    .find((element) => element !== null);
  target?.focus();
  return target !== undefined;
}

/**
 * After a list item was removed: focuses the control matching `selector` in
 * the item now at `index` (the next one), else the last item (the one
 * before), else the desk landmark.
 */
export function focusNeighbour(items: readonly Element[], index: number, selector: string): void {
  const item = items[Math.min(index, items.length - 1)];
  const control = item?.querySelector<HTMLElement>(selector);
  if (control) control.focus();
  else focusDesk();
}
