/**
 * GET /admin/api/events/stream: new events as Server-Sent Events, filtered like the events
 * list. A comment every few seconds keeps proxies and Bun's idle timeout from closing it.
 */
import { Elysia } from "elysia";
import type { TrackedEvent } from "../events/event.model.ts";
import { matches, type EventFilter, type EventStore } from "../store/event-store.ts";
import { EventStreamQuery, toFilter } from "./admin.model.ts";
import { withQuery } from "./admin-input.ts";

const HEARTBEAT_MS = 5000;

export function eventStreamRoutes(deps: { events: EventStore }) {
  return new Elysia({ name: "event-stream" }).get(
    "/events/stream",
    withQuery(EventStreamQuery, (query, { request }) => {
      const filter: EventFilter = toFilter(query);
      const encoder = new TextEncoder();
      let cleanup = () => {};
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          const send = (text: string) => {
            try {
              controller.enqueue(encoder.encode(text));
            } catch {
              cleanup();
            }
          };
          const unsubscribe = deps.events.onEvent((event: TrackedEvent) => {
            if (matches(event, filter)) send(`event: event\ndata: ${JSON.stringify(event)}\n\n`);
          });
          const heartbeat = setInterval(() => send(": keep-alive\n\n"), HEARTBEAT_MS);
          cleanup = () => {
            unsubscribe();
            clearInterval(heartbeat);
          };
          request.signal.addEventListener("abort", () => cleanup());
          send(": connected\n\n");
        },
        cancel() {
          cleanup();
        },
      });
      return new Response(stream, {
        headers: {
          "content-type": "text/event-stream",
          "cache-control": "no-store",
          connection: "keep-alive",
        },
      });
    }),
  );
}
