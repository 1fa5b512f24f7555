/**
 * What counts as a lead: a server-side event whose action or object is configured as one
 * (`leads` in the config), unless its action is one that never is (`notActions`: `change`, a
 * vendor enriching a shopper or a lead it sent before), or it failed to prove its sender on a
 * tracker that flags such events rather than refusing them (ingest/server-auth.ts).
 */
import type { LeadRule } from "../config/schema.ts";
import type { TrackedEvent } from "../events/event.model.ts";

export type IsLead = (event: TrackedEvent) => boolean;

/** A server-side event that may count (as a lead or a stage): not one flagged unverified. */
export const fromProvenServer = (event: TrackedEvent): boolean =>
  event.context.source === "server" && event.context.auth?.verified !== false;

/** The lead test for a configured rule; actions and objects match case-insensitively. */
export function leadRule(rule: LeadRule): IsLead {
  const actions = new Set(rule.actions.map((a) => a.toLowerCase()));
  const objects = new Set(rule.objects.map((o) => o.toLowerCase()));
  const never = new Set(rule.notActions.map((a) => a.toLowerCase()));
  return (event) => {
    if (!fromProvenServer(event)) return false;
    const action = event.action.toLowerCase();
    return !never.has(action) && (actions.has(action) || objects.has(event.object.toLowerCase()));
  };
}
