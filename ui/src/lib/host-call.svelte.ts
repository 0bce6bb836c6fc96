// One form's call to the host, the way every form shows it: busy while it
// runs (the button says so, and submitting again does nothing) and the
// failure's code when it fails (for the form's ErrorBanner; the UI branches
// on the code only), cleared when it is tried again. Sign-in, the lock
// screen, settings, the language switch, transfer and wrap-up share it.

import { toHostError, type HostErrorCode } from "./host";

export class HostCall {
  /** A call is under way. */
  busy = $state(false);
  /** Why the last call failed; null when it went through (or was dismissed). */
  failure = $state<HostErrorCode | null>(null);
  /** With `too_many_attempts`: the platform's wait in seconds, when it said. */
  retryAfterSeconds = $state<number | null>(null);

  /** Runs `call` unless one is under way; true when it went through. */
  async run(call: () => Promise<void>): Promise<boolean> {
    if (this.busy) return false;
    this.busy = true;
    this.failure = null;
    this.retryAfterSeconds = null;
    try {
      await call();
      return true;
    } catch (reason) {
      const error = toHostError(reason);
      this.failure = error.code;
      this.retryAfterSeconds = error.retryAfterSeconds;
      return false;
    } finally {
      this.busy = false;
    }
  }
}
