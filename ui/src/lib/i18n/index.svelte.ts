// Interface language: the current locale (reactive) and `t()` to look up text.
//
// Why not svelte-i18n or paraglide: two languages, a few dozen strings, no
// plurals in Chinese. A typed dictionary gives compile-time key checks (a
// typo in a key is a type error) with no runtime dependency; see
// docs/decisions/0004-i18n-typed-dictionaries.md.

import type { Locale } from "../host";
import { en } from "./messages/en";
import { zhCN, type MessageKey, type Messages } from "./messages/zh-CN";

export type { MessageKey };

const catalogs: Record<Locale, Messages> = { "zh-CN": zhCN, en };

/** Languages offered in the switcher, each named in its own language. */
export const LANGUAGES: readonly { locale: Locale; name: string }[] = [
  { locale: "zh-CN", name: "中文" },
  { locale: "en", name: "English" },
];

let current = $state<Locale>("zh-CN");

/** The interface language now in use. */
export function locale(): Locale {
  return current;
}

/** Switches the interface language and the document's `lang` (for screen readers). */
export function useLocale(next: Locale): void {
  current = next;
  if (typeof document !== "undefined") document.documentElement.lang = next;
}

/** The text for `key` in the current language, with `{name}` placeholders filled. */
export function t(key: MessageKey, params: Record<string, string | number> = {}): string {
  return format(catalogs[current][key], params);
}

export function format(template: string, params: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

export { catalogs };
