// Notices when nobody has touched the keyboard or mouse for a while (the
// auto screen lock). Activity only records a time stamp, so a moving mouse
// costs nothing; one timer checks when the quiet period could be over.

const ACTIVITY = ["keydown", "pointerdown", "pointermove", "wheel", "touchstart"] as const;

/**
 * Calls `onIdle` once after `ms` without activity on `target`; returns a
 * function that stops watching.
 */
export function watchIdle(target: EventTarget, ms: number, onIdle: () => void): () => void {
  let last = Date.now();
  let timer: ReturnType<typeof setTimeout>;
  const active = () => {
    last = Date.now();
  };
  const check = () => {
    const quiet = Date.now() - last;
    if (quiet >= ms) onIdle();
    else timer = setTimeout(check, ms - quiet);
  };
  for (const type of ACTIVITY) {
    target.addEventListener(type, active, { capture: true, passive: true });
  }
  timer = setTimeout(check, ms);
  return () => {
    clearTimeout(timer);
    for (const type of ACTIVITY) target.removeEventListener(type, active, { capture: true });
  };
}
