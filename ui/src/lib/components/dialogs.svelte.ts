// Which dialog is over the desk: one at a time (the shell is inert behind
// it), and the one it was opened from, shown again when it closes (the
// practice picker → the history, the pack's result → one report).
// DialogHost.svelte draws the dialog named here; the App and the practice
// model open and close them.

/** The dialogs the App can show, one at a time. */
export type DialogName =
  "settings" | "myDay" | "help" | "practice" | "practiceHistory" | "report" | "packResult" | "link";

export class DialogStack {
  /** The dialog in front; null when the desk is free. */
  shown = $state<DialogName | null>(null);
  /** The dialog to go back to when the one in front closes. */
  returnTo: DialogName | null = null;

  /** The address the "link" dialog asks about (an article's link). */
  link = $state<string | null>(null);

  /** Asks the agent before `address` opens in the system browser. */
  confirmLink(address: string) {
    this.link = address;
    this.open("link");
  }

  /** Shows `next`; with `comeBack`, the dialog in front now returns when it closes. */
  open(next: DialogName, comeBack: boolean = false) {
    this.returnTo = comeBack ? this.shown : null;
    this.shown = next;
  }

  /** Closes the dialog in front; returns the one shown again (null: none). */
  close(): DialogName | null {
    const back = this.returnTo;
    this.returnTo = null;
    this.shown = back;
    return back;
  }

  /** Closes every dialog, without coming back to any. */
  closeAll() {
    this.returnTo = null;
    this.shown = null;
  }
}
