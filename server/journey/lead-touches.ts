/**
 * Each lead's touches kept, so that attribution over a month reads them instead of walking
 * thousands of journeys when asked (a journey is about a millisecond; a month can hold
 * thousands of leads). A lead's channels (attribution.ts touchChannels) are worked out a
 * minute after it arrives, when its visits are all in (the Web SDK's last beacons included),
 * and again whenever the leads API walks its journey; a query finds the rest missing and
 * works them out then. Each record is stamped with the rules it was worked out under (the
 * journey's bounds, the lookback, the account's placeholders): a record under other rules is
 * worked out again. A visit that joins a shopper only after the lead (an identifier sent
 * later) reaches the stored touches the next time the lead's journey is walked (the Leads
 * page, the leads API), not before.
 */
import { setImmediate } from "node:timers";
import type { TrackedEvent } from "../events/event.model.ts";
import type { Channel } from "./attribution.ts";
import { touchChannels } from "./attribution.ts";
import { findJourneyPaced, type Journey, type JourneyReader } from "./journey.ts";
import type { JourneyLimits } from "../config/schema.ts";
import type { IsLead } from "./lead-rule.ts";

interface Stored {
  /** The rules stamp it was worked out under. */
  rules: string;
  channels: Channel[];
}

export interface LeadTouchesDeps {
  reader: JourneyReader;
  journey: JourneyLimits;
  isLead: IsLead;
  lookbackMs: number;
  /** Where the records are kept (event-store.ts leadTouches). */
  db: {
    get(eventId: string): string | undefined;
    put(eventId: string, json: string): Promise<unknown>;
  };
  /** What, besides the bounds and the lookback, a lead's touches depend on in its account (its placeholders). */
  accountRules: (accountId: string) => string;
  /** How long after a lead arrives its touches are worked out (default SETTLE_MS). */
  settleMs?: number;
}

/** How long after a lead arrives its touches are worked out (its visits' last events may come after it). */
const SETTLE_MS = 60_000;
/** Leads waiting to settle, at most. */
const MAX_PENDING = 10_000;

export class LeadTouches {
  private readonly pending: TrackedEvent[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;

  private readonly settleMs: number;
  /** The part of every stamp that is the same for all accounts. */
  private readonly rules: string;

  constructor(private readonly deps: LeadTouchesDeps) {
    this.settleMs = deps.settleMs ?? SETTLE_MS;
    this.rules = JSON.stringify([deps.journey, deps.lookbackMs]);
  }

  private stamp(accountId: string): string {
    return `${this.rules}${this.deps.accountRules(accountId)}`;
  }

  /** The lead's channels if they are kept under today's rules; undefined if not. */
  known(lead: TrackedEvent): Channel[] | undefined {
    const json = this.deps.db.get(lead.eventId);
    if (json === undefined) return undefined;
    const stored = JSON.parse(json) as Stored;
    return stored.rules === this.stamp(lead.accountId) ? stored.channels : undefined;
  }

  /**
   * Works out the lead's channels from its journey, keeps them (a write only if they changed:
   * the Leads page walks thousands), and returns them.
   */
  keep(lead: TrackedEvent, journey: Journey): Channel[] {
    const channels = touchChannels(lead, journey, this.deps.lookbackMs);
    const stored: Stored = { rules: this.stamp(lead.accountId), channels };
    const json = JSON.stringify(stored);
    // Kept for the next query; one that failed to be stored is worked out again then.
    if (this.deps.db.get(lead.eventId) !== json)
      this.deps.db.put(lead.eventId, json).catch(() => {});
    return channels;
  }

  /** Call with each stored event: a lead's touches are worked out SETTLE_MS later, in the background. */
  stored(event: TrackedEvent): void {
    // Past MAX_PENDING (a burst of imported leads), the rest are worked out by the query that needs them.
    if (!this.deps.isLead(event) || this.pending.length >= MAX_PENDING) return;
    this.pending.push(event);
    this.timer ??= unref(setTimeout(() => void this.settle(), this.settleMs));
  }

  /** Works out the pending leads that have settled, one per turn of the event loop. */
  private async settle(): Promise<void> {
    const due = Date.now() - this.settleMs;
    while (this.pending.length > 0 && Date.parse(this.pending[0]!.receivedAt) <= due) {
      const lead = this.pending.shift()!;
      try {
        const journey = await findJourneyPaced(
          this.deps.reader,
          lead.accountId,
          { eventId: lead.eventId },
          this.deps.journey,
          this.deps.isLead,
          nextTurn,
        );
        if (journey) this.keep(lead, journey);
      } catch {
        // The store closed, or the lead went: a query works it out when it needs it.
      }
      await nextTurn();
    }
    this.timer =
      this.pending.length > 0 ? unref(setTimeout(() => void this.settle(), this.settleMs)) : null;
  }
}

const nextTurn = () => new Promise<void>((r) => setImmediate(r));

const unref = (t: ReturnType<typeof setTimeout>) => {
  t.unref?.();
  return t;
};
