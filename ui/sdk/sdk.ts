/**
 * The Web SDK, served as /sdk.js. It is one self-contained function (no imports, no outer
 * variables): trackd serves its source text, `(function trackdSdk(w){...})(window)`, so what
 * browsers run is exactly what tsc checks here.
 *
 * Every event gets a UUID `eventId` when it is tracked and stays queued in localStorage until
 * trackd has confirmed it, so retries (after a network error, on the next page) are safe:
 * trackd stores each eventId once. Sends are CORS "simple" requests (text/plain, no custom
 * headers), so browsers never need a preflight: fetch with keepalive while the page lives,
 * sendBeacon when it is hidden or left.
 */
export function trackdSdk(w: Window): void {
  type Fields = Record<string, unknown>;
  type Config = { endpoint: string; aid: string; tid: string; flushIntervalMs?: number; debug?: boolean };
  const api = w as unknown as { trackd?: { (...args: unknown[]): void; q?: IArguments[]; loaded?: boolean } };
  if (api.trackd?.loaded) return;

  const VISIT_IDLE_MS = 30 * 60 * 1000;
  const MAX_QUEUE = 500;
  const PER_REQUEST = 100;
  let config: Config | null = null;
  let instanceId: string | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let sending = false;

  const store = {
    get<T>(key: string): T | null {
      try {
        const v = w.localStorage.getItem(`trackd.${key}`);
        return v === null ? null : (JSON.parse(v) as T);
      } catch {
        return null; // storage off (private mode, policies): the SDK still sends, just without memory
      }
    },
    set(key: string, value: unknown): void {
      try {
        w.localStorage.setItem(`trackd.${key}`, JSON.stringify(value));
      } catch {
        /* full or off */
      }
    },
  };
  const uuid = (): string =>
    typeof w.crypto?.randomUUID === "function"
      ? w.crypto.randomUUID()
      : "10000000-1000-4000-8000-100000000000".replace(/[018]/g, (c) => (Number(c) ^ (w.crypto.getRandomValues(new Uint8Array(1))[0]! & (15 >> (Number(c) / 4)))).toString(16));

  /** A first-party device ID, kept as long as the site's storage is. */
  const deviceId = (): string => {
    let id = store.get<string>("device");
    if (!id) store.set("device", (id = uuid()));
    return id;
  };

  /** A visit ends after 30 idle minutes, or when the shopper arrives from another site. */
  const visitId = (now: number): string => {
    let visit = store.get<{ id: string; last: number }>("visit");
    let external = false;
    try {
      external = !!w.document.referrer && new URL(w.document.referrer).host !== w.location.host;
    } catch {
      /* unparseable referrer */
    }
    if (!visit || now - visit.last > VISIT_IDLE_MS || (external && !visitChecked)) visit = { id: uuid(), last: now };
    visitChecked = true; // an external referrer starts a visit once per page, not per event
    visit.last = now;
    store.set("visit", visit);
    return visit.id;
  };
  let visitChecked = false;

  const queue = (): Fields[] => store.get<Fields[]>("queue") ?? [];
  const saveQueue = (q: Fields[]) => store.set("queue", q.slice(-MAX_QUEUE));
  const url = (path: string) => `${config!.endpoint.replace(/\/+$/, "")}/collect/${encodeURIComponent(config!.aid)}/${encodeURIComponent(config!.tid)}/${path}`;
  const body = (batch: Fields[]) => {
    const sentAt = Date.now();
    const events = batch.map((e) => ({ ...e, sentAt }));
    return events.length === 1 ? { path: "event", text: JSON.stringify(events[0]) } : { path: "events", text: JSON.stringify(events) };
  };

  /** Sends queued events with fetch; removes them once trackd has answered for them. */
  const flush = async (): Promise<void> => {
    if (!config || sending || !w.navigator.onLine) return;
    const batch = queue().slice(0, PER_REQUEST);
    if (batch.length === 0) return;
    sending = true;
    try {
      const { path, text } = body(batch);
      // A string body is sent as text/plain: a simple request, no preflight.
      const res = await w.fetch(url(path), { method: "POST", body: text, keepalive: text.length < 60000, credentials: "omit" });
      // 2xx: stored (or a duplicate); 4xx other than 429: it will never be accepted, drop it.
      if (res.ok || (res.status >= 400 && res.status < 500 && res.status !== 429)) {
        const done = new Set(batch.map((e) => e.eventId));
        saveQueue(queue().filter((e) => !done.has(e.eventId)));
        if (config.debug && !res.ok) console.warn("trackd refused events", res.status, await res.text());
      }
    } catch {
      /* offline or blocked: they stay queued */
    } finally {
      sending = false;
    }
    if (queue().length > 0 && w.navigator.onLine) schedule(1000);
  };

  /** On the way out: hand everything queued to the browser, which sends it even after the page is gone. */
  const beacon = (): void => {
    if (!config) return;
    const q = queue();
    for (let i = 0; i < q.length; i += PER_REQUEST) {
      const { path, text } = body(q.slice(i, i + PER_REQUEST));
      const blob = new Blob([text], { type: "text/plain" });
      if (!(w.navigator.sendBeacon && w.navigator.sendBeacon(url(path), blob))) void w.fetch(url(path), { method: "POST", body: text, keepalive: true, credentials: "omit" }).catch(() => {});
    }
    // They stay queued: the next page confirms them with fetch, and trackd drops the repeats by eventId.
  };

  const schedule = (ms: number) => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      void flush();
    }, ms);
  };

  const commands: Record<string, (arg: unknown) => void> = {
    init(arg) {
      const c = arg as Config;
      if (!c || !c.endpoint || !c.aid || !c.tid) throw new Error("trackd('init', { endpoint, aid, tid }) needs all three");
      config = c;
      if (queue().length > 0) schedule(0); // events left from earlier pages
    },
    track(arg) {
      const fields = { ...(arg as Fields) };
      const now = Date.now();
      const event: Fields = {
        ...fields,
        eventId: uuid(),
        timestamp: now,
        deviceId: deviceId(),
        visitId: visitId(now),
        pageUrl: w.location.href,
        ...(w.document.referrer ? { referrer: w.document.referrer } : {}),
      };
      if (instanceId && event.instanceId === undefined && event.instance_id === undefined && event.instanceID === undefined) event.instanceId = instanceId;
      const q = queue();
      q.push(event);
      saveQueue(q);
      schedule(config?.flushIntervalMs ?? 1000);
    },
    setInstanceId(arg) {
      instanceId = arg === null || arg === undefined ? null : String(arg);
    },
    flush() {
      void flush();
    },
  };

  const trackd = (command: unknown, arg?: unknown): void => {
    const run = commands[String(command)];
    if (!run) throw new Error(`trackd: unknown command ${String(command)}`);
    run(arg);
  };
  const pending = api.trackd?.q ?? [];
  api.trackd = Object.assign(trackd, { loaded: true });
  for (const args of pending) trackd(args[0], args[1]);

  w.addEventListener("online", () => void flush());
  w.addEventListener("pagehide", beacon);
  w.document.addEventListener("visibilitychange", () => {
    if (w.document.visibilityState === "hidden") beacon();
  });
}
