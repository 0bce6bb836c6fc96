// The App's wiring to the desk: which desk event (or notice the OS could not
// show) calls which of the App's handlers, in one place. The App keeps the
// state; this module only subscribes, translates the wire names and returns
// one function that stops both subscriptions.

import type { OfferView } from "./components/offers/offers.svelte";
import type { ConnectionStatus, Host, Notice, Presence, PresenceReason } from "./host";

export interface DeskHandlers {
  /** The connection to the platform changed. */
  status(status: ConnectionStatus): void;
  /** Local data changed: re-read what is shown. */
  changed(): void;
  /** A contact is offered to this agent (again, if it was already). */
  offer(offer: OfferView): void;
  /** An offer was taken back. */
  offerWithdrawn(offerId: string): void;
  /** The platform set the presence, and says why. */
  presence(presence: Presence, reason: PresenceReason | null): void;
  /** Refused actions changed. */
  conflicts(): void;
  /** A notice the OS could not show. */
  notice(notice: Notice): void;
  /** The platform says the supervisor's team changed: the team view reads again. */
  teamChanged(): void;
  /** A colleague's internal note mentions this agent (`@code`). */
  mentioned(mention: Mention): void;
}

/** A note that mentions the agent: where, by whom (agent code), and its start. */
export interface Mention {
  conversationId: string;
  subject: string;
  by: string;
  preview: string;
}

/** Subscribes `on` to the host's desk events and notices; the result stops both. */
export async function listenToDesk(host: Host, on: DeskHandlers): Promise<() => void> {
  const unlisten = await host.onDeskEvent((event) => {
    if (event.type === "status") on.status(event.status);
    if (event.type === "changed") on.changed();
    if (event.type === "offer") {
      on.offer({
        offerId: event.offer_id,
        conversationId: event.conversation_id,
        channel: event.channel,
        subject: event.subject,
        expiresAt: event.expires_at,
      });
    }
    if (event.type === "presence") on.presence(event.presence, event.reason);
    if (event.type === "offer_withdrawn") on.offerWithdrawn(event.offer_id);
    if (event.type === "conflicts") on.conflicts();
    if (event.type === "team_changed") on.teamChanged();
    if (event.type === "mentioned") {
      on.mentioned({
        conversationId: event.conversation_id,
        subject: event.subject,
        by: event.by,
        preview: event.preview,
      });
    }
  });
  const unlistenNotices = await host.onNotice(on.notice);
  return () => {
    unlisten();
    unlistenNotices();
  };
}
