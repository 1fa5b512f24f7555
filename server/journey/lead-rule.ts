/** What counts as a lead: a server-side event whose action or object is configured as one (`leads` in the config). */
import type { LeadRule } from "../config/schema.ts";
import type { TrackedEvent } from "../events/event.model.ts";

export type IsLead = (event: TrackedEvent) => boolean;

/** The lead test for a configured rule; actions and objects match case-insensitively. */
export function leadRule(rule: LeadRule): IsLead {
  const actions = new Set(rule.actions.map((a) => a.toLowerCase()));
  const objects = new Set(rule.objects.map((o) => o.toLowerCase()));
  return (event) =>
    event.context.source === "server" &&
    (actions.has(event.action.toLowerCase()) || objects.has(event.object.toLowerCase()));
}
