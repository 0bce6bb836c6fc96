// A console screen's data as the screen keeps it: the last view read from
// the host (the core answers with the platform's latest, or with the copy
// kept on this PC and `live: false` when the link is down), when it was
// fetched, and whether it is live. A view once shown is never replaced by
// nothing: an answer without a view, or a failed call, keeps it (the
// screen says how old it is). One read at a time: a read asked for while
// one runs follows it, and `soon` folds a burst of changes into one read.

import { toHostError, type HostErrorCode } from "../../host";

/** What the host answers for a console screen (TeamSnapshot, TraineesSnapshot). */
export interface Snapshot<V> {
  view: V | null;
  fetchedAt: number | null;
  live: boolean;
  problem: string | null;
}

export class LiveView<V> {
  /** The view shown; null until one was read. */
  view = $state.raw<V | null>(null);
  /** When `view` was fetched (PC clock). */
  fetchedAt = $state<number | null>(null);
  /** The last answer came from the platform just now. */
  live = $state(true);
  /** An answer (or a failure) came at least once. */
  answered = $state(false);
  /** Why the last read failed (the view stays). */
  failure = $state<HostErrorCode | null>(null);

  private readonly fetch: () => Promise<Snapshot<V>>;
  private running: Promise<void> | null = null;
  private again = false;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(fetch: () => Promise<Snapshot<V>>) {
    this.fetch = fetch;
  }

  /** Reads now (or right after the read under way). */
  load(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.readUntilQuiet().finally(() => (this.running = null));
    return this.running;
  }

  /** Reads once `ms` pass without another call. */
  soon(ms: number) {
    this.cancel();
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.load();
    }, ms);
  }

  /** Drops a read asked for with `soon` (the screen is going away). */
  cancel() {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private async readUntilQuiet() {
    do {
      this.again = false;
      try {
        const answer = await this.fetch();
        if (answer.view !== null || answer.live) {
          this.view = answer.view;
          this.fetchedAt = answer.fetchedAt;
        }
        this.live = answer.live;
        this.failure = null;
      } catch (reason) {
        this.failure = toHostError(reason).code;
      }
      this.answered = true;
    } while (this.again);
  }
}
