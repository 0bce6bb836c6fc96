// The contacts the platform offers this agent, oldest first (the first is on
// screen, in OfferPrompt.svelte): an offer made again replaces the earlier
// one, a withdrawn one goes, and one whose time ran out goes too, on the
// platform's clock (a PC clock that is off neither cuts an offer short nor
// keeps it after the platform moved on). Accepting opens the conversation;
// when the screen locks, every offer shown is declined, so a colleague gets
// it now. Construct it while a component starts: it runs its expiry timer
// in an effect of that component.

import { toHostError, type Channel, type Host, type HostErrorCode } from "../../host";

/** An offer as the window keeps it. */
export interface OfferView {
  offerId: string;
  conversationId: string;
  channel: Channel;
  subject: string;
  /** When the offer runs out, on the platform's clock (ms since the epoch). */
  expiresAt: number;
}

/** How often offers whose time ran out are dropped. */
export const EXPIRY_CHECK_MS = 1000;

export interface OfferDeps {
  host: () => Host;
  /** Platform clock minus this PC's clock. */
  clockOffsetMs: () => number;
  /** The agent accepted the offer for this conversation: open it. */
  onaccepted: (conversationId: string) => void;
  onfailure: (code: HostErrorCode) => void;
}

export class OfferList {
  /** The offers, oldest first. */
  items = $state<OfferView[]>([]);

  private readonly deps: OfferDeps;

  constructor(deps: OfferDeps) {
    this.deps = deps;
    $effect(() => {
      if (this.items.length === 0) return;
      const timer = setInterval(
        () => this.dropExpired(Date.now() + this.deps.clockOffsetMs()),
        EXPIRY_CHECK_MS,
      );
      return () => clearInterval(timer);
    });
  }

  /** The offer on screen, if any. */
  get first(): OfferView | undefined {
    return this.items[0];
  }

  /** Whether an offer for this conversation is shown. */
  has(conversationId: string): boolean {
    return this.items.some((o) => o.conversationId === conversationId);
  }

  /** The platform offers a contact (again, if it already did: the new offer replaces it). */
  received(offer: OfferView) {
    this.items = [...this.items.filter((o) => o.offerId !== offer.offerId), offer];
  }

  /** The platform took an offer back. */
  withdrawn(offerId: string) {
    this.items = this.items.filter((o) => o.offerId !== offerId);
  }

  /** Drops the offers whose time ran out at `platformNow` (ms, on the platform's clock). */
  dropExpired(platformNow: number) {
    this.items = this.items.filter((o) => o.expiresAt > platformNow);
  }

  /** Forgets every offer without answering (the desk changed). */
  clear() {
    this.items = [];
  }

  /** The agent accepts or declines `offer`; it leaves the screen at once. */
  async answer(offer: OfferView, accept: boolean) {
    const { host, onaccepted, onfailure } = this.deps;
    this.items = this.items.filter((o) => o.offerId !== offer.offerId);
    try {
      if (accept) {
        await host().acceptOffer(offer.offerId);
        onaccepted(offer.conversationId);
      } else {
        await host().declineOffer(offer.offerId);
      }
    } catch (reason) {
      onfailure(toHostError(reason).code);
    }
  }

  /** Nobody is at the desk: declines every offer shown, and waits for the answers. */
  async declineAll() {
    const shown = this.items;
    this.items = [];
    await Promise.allSettled(shown.map((offer) => this.deps.host().declineOffer(offer.offerId)));
  }
}
