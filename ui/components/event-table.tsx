/** A list of events: time, IDs, action and object, vendor and product, instance, source. */
import type { TrackedEvent } from "../api.ts";
import { localTime } from "../format.ts";
import { JourneyLink } from "./journey-link.tsx";

export function EventTable({
  events,
  onSelect,
  selected,
  showInstance = true,
  showJourney = false,
}: {
  events: TrackedEvent[];
  onSelect?: (e: TrackedEvent) => void;
  selected?: string | null;
  showInstance?: boolean;
  /** A column linking each event to its shopper's journey. */
  showJourney?: boolean;
}) {
  if (events.length === 0) return <p class="muted">No events.</p>;
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Received</th>
            <th scope="col">aid / tid</th>
            <th scope="col">Action</th>
            <th scope="col">Object</th>
            <th scope="col">Vendor · product</th>
            {showInstance && <th scope="col">Instance</th>}
            <th scope="col">Source</th>
            {showJourney && <th scope="col">Shopper</th>}
          </tr>
        </thead>
        <tbody>
          {events.map((e) => (
            <tr key={e.eventId} class={e.eventId === selected ? "selected" : undefined}>
              <td>
                {onSelect ? (
                  <button
                    type="button"
                    class="link"
                    onClick={() => onSelect(e)}
                    aria-label={`Show event ${e.eventId}`}
                  >
                    {localTime(e.receivedAt)}
                  </button>
                ) : (
                  localTime(e.receivedAt)
                )}
              </td>
              <td class="mono">
                {e.accountId} / {e.trackerId}
              </td>
              <td>
                {e.action}
                {e.actionType === "custom" && <span class="tag">custom</span>}
                {e.test && <span class="tag warn">test</span>}
              </td>
              <td>{e.object}</td>
              <td>
                {e.vendor} · {e.product}
              </td>
              {showInstance && <td class="mono">{e.instanceId}</td>}
              <td>{e.context.source}</td>
              {showJourney && (
                <td>
                  <JourneyLink accountId={e.accountId} eventId={e.eventId} />
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
