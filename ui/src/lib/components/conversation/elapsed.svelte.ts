// The seconds shown by a running timer on the conversation screen (the
// call, the after-contact work): one clock that ticks once a second only
// while its timer runs, so the call panel and the wrap-up panel count the
// same way.

import { elapsedSecs } from "../../format";

/** Seconds since `startedAt()` (0 when it is null), re-read every second while it runs. */
export function secondsSince(startedAt: () => number | null): { readonly secs: number } {
  let now = $state(Date.now());
  $effect(() => {
    if (startedAt() === null) return;
    now = Date.now();
    const ticker = setInterval(() => (now = Date.now()), 1000);
    return () => clearInterval(ticker);
  });
  return {
    get secs() {
      const start = startedAt();
      return start === null ? 0 : elapsedSecs(start, now);
    },
  };
}
