// Applies the agent's display preferences to the whole page at once: the
// root element carries them (`data-text-size`, `.high-contrast`,
// `.reduced-motion`) and app.css does the rest, so every component follows
// without knowing about preferences.

import type { Preferences } from "./host";

/** Puts the preferences on the root element; app.css reads them from there. */
export function applyPreferences(preferences: Preferences, root = document.documentElement): void {
  root.dataset.textSize = preferences.textSize;
  root.classList.toggle("high-contrast", preferences.highContrast);
  root.classList.toggle("reduced-motion", preferences.reducedMotion);
}

/** The operating system asks for less motion. */
export function systemPrefersReducedMotion(): boolean {
  return (
    typeof window !== "undefined" &&
    typeof window.matchMedia === "function" &&
    window.matchMedia("(prefers-reduced-motion: reduce)").matches
  );
}

/**
 * A short, quiet two-note chime for an in-app notice (the OS could not
 * show the notification, so it could not ring either). Silently does
 * nothing where the page has no audio.
 */
export function chime(): void {
  const AudioContextClass = typeof window !== "undefined" ? window.AudioContext : undefined;
  if (!AudioContextClass) return;
  try {
    const audio = new AudioContextClass();
    const gain = audio.createGain();
    gain.gain.value = 0.08;
    gain.connect(audio.destination);
    [660, 880].forEach((frequency, i) => {
      const tone = audio.createOscillator();
      tone.frequency.value = frequency;
      tone.connect(gain);
      tone.start(audio.currentTime + i * 0.15);
      tone.stop(audio.currentTime + i * 0.15 + 0.12);
    });
    setTimeout(() => void audio.close(), 600);
  } catch {
    // No sound device: the notice still shows.
  }
}
