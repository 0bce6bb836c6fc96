// A refused action, explained in the interface language.
//
// The platform refuses an action with a code from a closed set (ActionCode,
// generated from Rust) and parameters (RefusalParams: who holds the
// conversation now, the limit exceeded). The text the agent reads is chosen
// here from the code alone; the platform's own English `message` is never
// shown, in either language. A code this build does not know (a newer
// platform) gets a general sentence, still in the interface language.

import type { ActionCode } from "./host/bindings/ActionCode";
import type { RefusalParams } from "./host/bindings/RefusalParams";
import { t, type MessageKey } from "./i18n/index.svelte";

/** What a refusal says, per code; parameters come from `RefusalParams`. */
const EXPLAIN: Record<
  ActionCode,
  (p: RefusalParams, holder: string | null) => [MessageKey, Record<string, string | number>]
> = {
  not_found: () => ["refusal.not_found", {}],
  not_assigned: (_, holder) =>
    holder === null ? ["refusal.not_assigned.queue", {}] : ["refusal.not_assigned", { holder }],
  already_claimed: (_, holder) =>
    holder === null
      ? ["refusal.already_claimed.someone", {}]
      : ["refusal.already_claimed", { holder }],
  already_resolved: () => ["refusal.already_resolved", {}],
  offer_expired: () => ["refusal.offer_expired", {}],
  forbidden: () => ["refusal.forbidden", {}],
  invalid: (p) =>
    p.field === "attachments" ? ["refusal.invalid_photo", {}] : ["refusal.invalid", {}],
  unknown_disposition: () => ["refusal.unknown_disposition", {}],
  key_reused: () => ["refusal.key_reused", {}],
  too_long: (p) => ["refusal.too_long", { limit: p.limit ?? 10_000 }],
  invalid_duration: (p) => [
    "refusal.invalid_duration",
    { hours: Math.round((p.limit ?? 86_400) / 3600) },
  ],
  unknown_attachment: () => ["refusal.unknown_attachment", {}],
};

/** The codes this build explains (the rest get `refusal.unknown`). */
export const EXPLAINED_CODES = Object.keys(EXPLAIN) as ActionCode[];

/**
 * Why the platform refused an action, in the current language. `holderName`
 * is the colleague's name when the desk knows it (else their agent code).
 * `action` (the refused action's type) words a refusal more exactly where
 * the code alone cannot: a note is refused as `forbidden` when an agent it
 * mentions cannot see the conversation.
 */
export function refusalText(refusal: {
  code: ActionCode | null;
  params: RefusalParams;
  holderName: string | null;
  action?: string;
}): string {
  if (refusal.action === "internal_note" && refusal.code === "forbidden") {
    return t("refusal.forbidden.mention");
  }
  const explain = refusal.code === null ? undefined : EXPLAIN[refusal.code];
  if (explain === undefined) return t("refusal.unknown");
  const holder = refusal.holderName ?? refusal.params.holder ?? null;
  const [key, params] = explain(refusal.params, holder);
  return t(key, params);
}
