/** The Event Specification's standard actions; anything else is a custom action kept as sent. */

export const STANDARD_ACTIONS = [
  "view",
  "select",
  "change",
  "open",
  "close",
  "start",
  "cancel",
  "complete",
  "submit",
  "marker",
  "associate",
] as const;

export type StandardAction = (typeof STANDARD_ACTIONS)[number];

const standard = new Set<string>(STANDARD_ACTIONS);

/** Classifies an action: standard actions match case-insensitively and come back lowercase. */
export function classifyAction(action: string): {
  action: string;
  actionType: "standard" | "custom";
} {
  const lower = action.toLowerCase();
  return standard.has(lower)
    ? { action: lower, actionType: "standard" }
    : { action, actionType: "custom" };
}
