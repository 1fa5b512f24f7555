/**
 * What counts as a lead: a server-side event whose action or object is configured as one
 * (`leads` in the config), unless its action is one that never is (`notActions`: `change`, a
 * vendor enriching a shopper or a lead it sent before).
 */
import type { LeadRule } from "../config/schema.ts";
import type { TrackedEvent } from "../events/event.model.ts";

export type IsLead = (event: TrackedEvent) => boolean;

/** The lead test for a configured rule; actions and objects match case-insensitively. */
export function leadRule(rule: LeadRule): IsLead {
  const actions = new Set(rule.actions.map((a) => a.toLowerCase()));
  const objects = new Set(rule.objects.map((o) => o.toLowerCase()));
  const never = new Set(rule.notActions.map((a) => a.toLowerCase()));
  return (event) => {
    if (event.context.source !== "server") return false;
    const action = event.action.toLowerCase();
    return !never.has(action) && (actions.has(action) || objects.has(event.object.toLowerCase()));
  };
}
