/**
 * The Web SDK, served as /sdk.js: scripts/sdk.ts bundles browser.ts, which runs
 * trackdSdk(window), into one wrapped, minified script at build time.
 *
 * Every event gets a UUID `eventId` when it is tracked and stays queued in localStorage until
 * trackd has confirmed it, so retries (after a network error, on the next page) are safe:
 * trackd stores each eventId once. Sends are CORS "simple" requests (text/plain, no custom
 * headers), so browsers never need a preflight: fetch with keepalive while the page lives,
 * sendBeacon when it is hidden or left.
 */
type Fields = Record<string, unknown>;
type Config = {
  endpoint: string;
  aid: string;
  tid: string;
  flushIntervalMs?: number;
  debug?: boolean;
  countryCode?: string;
  /** Track a page view on init and on a single-page app's navigation (default true). */
  pageViews?: boolean;
  /** The vendor and product of those page views (default "Website", "Web SDK"). */
  vendor?: string;
  product?: string;
};
type Identity = { userId?: string; emailSha256?: string; phoneSha256?: string };
/** A visit as kept in localStorage: across the site's pages, until it ends. */
type Visit = { id: string; last: number; instanceId?: string };
/** Sent as ?sdk= on every request: trackd marks these events as browser events. */
const SDK = "web-0.2.0";

/** A browser driven by automation (Selenium, Playwright, Puppeteer) says so: trackd flags its events as a bot's. */
const automation = (w: Window) => (w.navigator.webdriver === true ? "&oa_webdriver=1" : "");

/** The page's localStorage under trackd.*; where storage is off, the SDK still sends, without memory. */
function localStore(w: Window) {
  return {
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
    remove(key: string): void {
      try {
        w.localStorage.removeItem(`trackd.${key}`);
      } catch {
        /* off */
      }
    },
  };
}

type Consent = { analytics?: "granted" | "denied"; ads?: "granted" | "denied" };
/** What follows a shopper from page to page: kept only in the page's memory while analytics is denied. */
const PERSONAL = ["device", "visit", "identity"];

/**
 * The store as the shopper's consent allows (trackd('consent', ...), remembered itself): with
 * analytics denied, no device ID, visit or identity is kept in the browser, only for the page.
 */
function consentStore(store: ReturnType<typeof localStore>) {
  const memory = new Map<string, unknown>();
  let consent = store.get<Consent>("consent") ?? {};
  const personal = (key: string) => consent.analytics === "denied" && PERSONAL.includes(key);
  return {
    get: <T>(key: string): T | null =>
      personal(key) ? ((memory.get(key) as T | undefined) ?? null) : store.get<T>(key),
    set: (key: string, value: unknown) =>
      personal(key) ? void memory.set(key, value) : store.set(key, value),
    /** What events carry: the consent given, if any. */
    consent: (): { consent?: Consent } => (Object.keys(consent).length > 0 ? { consent } : {}),
    setConsent(given: unknown): void {
      const next: Consent = { ...consent };
      for (const purpose of ["analytics", "ads"] as const) {
        const state = (given as Record<string, unknown> | null)?.[purpose];
        if (state === "granted" || state === "denied") next[purpose] = state;
      }
      consent = next;
      store.set("consent", consent);
      if (consent.analytics === "denied") for (const key of PERSONAL) store.remove(key);
    },
  };
}

/** A random UUID, where crypto.randomUUID is missing too (plain-HTTP pages). */
function uuidOf(w: Window): string {
  return typeof w.crypto?.randomUUID === "function"
    ? w.crypto.randomUUID()
    : "10000000-1000-4000-8000-100000000000".replace(/[018]/g, (c) =>
        (
          Number(c) ^
          (w.crypto.getRandomValues(new Uint8Array(1))[0]! & (15 >> (Number(c) / 4)))
        ).toString(16),
      );
}

/** SHA-256 of a string's UTF-8 bytes, as hex. In the SDK itself: crypto.subtle is async and absent on plain-HTTP pages. */
function sha256(text: string): string {
  const K: number[] = [];
  const H: number[] = [];
  for (let n = 2; K.length < 64; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) if (n % d === 0) prime = false;
    if (!prime) continue;
    if (H.length < 8) H.push(((n ** (1 / 2) % 1) * 2 ** 32) | 0);
    K.push(((n ** (1 / 3) % 1) * 2 ** 32) | 0);
  }
  const bytes = new TextEncoder().encode(text);
  const padded = new Uint8Array(((bytes.length + 72) >> 6) << 6);
  padded.set(bytes);
  padded[bytes.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(bytes.length / 2 ** 29));
  view.setUint32(padded.length - 4, (bytes.length * 8) >>> 0);
  const ror = (x: number, n: number) => (x >>> n) | (x << (32 - n));
  const wk: number[] = [];
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 64; i++) {
      if (i < 16) wk[i] = view.getUint32(off + i * 4);
      else {
        const a = wk[i - 15]!;
        const b = wk[i - 2]!;
        wk[i] =
          (wk[i - 16]! +
            (ror(a, 7) ^ ror(a, 18) ^ (a >>> 3)) +
            wk[i - 7]! +
            (ror(b, 17) ^ ror(b, 19) ^ (b >>> 10))) |
          0;
      }
    }
    let [a, b, c, d, e, f, g, h] = H as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    for (let i = 0; i < 64; i++) {
      const t1 =
        (h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i]! + wk[i]!) | 0;
      const t2 = ((ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      [h, g, f, e, d, c, b, a] = [g, f, e, (d + t1) | 0, c, b, a, (t1 + t2) | 0];
    }
    [a, b, c, d, e, f, g, h].forEach((v, i) => (H[i] = (H[i]! + v) | 0));
  }
  return H.map((v) => (v >>> 0).toString(16).padStart(8, "0")).join("");
}

/** One request's body: one event, or a batch of them. */
function requestBody(batch: Fields[]) {
  const sentAt = Date.now();
  const events = batch.map((e) => ({ ...e, sentAt }));
  return events.length === 1
    ? { path: "event", text: JSON.stringify(events[0]) }
    : { path: "events", text: JSON.stringify(events) };
}

const VISIT_IDLE_MS = 30 * 60 * 1000;
const MAX_QUEUE = 500;
const PER_REQUEST = 100;

/** A first-party device ID, kept as long as the site's storage is. */
function deviceIdOf(
  store: Pick<ReturnType<typeof localStore>, "get" | "set">,
  uuid: () => string,
): string {
  let id = store.get<string>("device");
  if (!id) {
    id = uuid();
    store.set("device", id);
  }
  return id;
}

/** Email: trimmed and lower-cased. */
const normalizeEmail = (email: string) => email.trim().toLowerCase();

/**
 * Meta's `_fbc` (the ad click) and `_fbp` (the browser) cookies, when the site's Meta pixel set
 * them: sent as `fbc` and `fbp`, so a lead can be uploaded back to Meta with them.
 */
function metaCookies(doc: { cookie: string }): { fbc?: string; fbp?: string } {
  const found: { fbc?: string; fbp?: string } = {};
  let cookies = "";
  try {
    cookies = doc.cookie ?? ""; // throws in a sandboxed frame
  } catch {
    return found;
  }
  for (const part of cookies.split(";")) {
    const at = part.indexOf("=");
    const name = part.slice(0, at).trim();
    if (name === "_fbc" || name === "_fbp")
      found[name === "_fbc" ? "fbc" : "fbp"] = part.slice(at + 1).trim();
  }
  return found;
}

/** Phone: digits with the country code (+ kept; 10 digits get the configured code, by default 1). */
function normalizePhone(phone: string, countryCode = "1"): string {
  const digits = phone.replace(/\D/g, "");
  if (phone.trim().startsWith("+")) return digits;
  if (digits.startsWith("00")) return digits.slice(2);
  return digits.length === 10 ? countryCode + digits : digits;
}

/**
 * What trackd refused of an answered batch, on the page's console (trackd's reject log keeps
 * it too): never dropped silently.
 */
async function warnRefused(res: Response, batch: Fields[], path: string): Promise<void> {
  if (!res.ok) {
    console.warn(`trackd refused ${batch.length} event(s): HTTP ${res.status}`, await res.text());
    return;
  }
  if (path !== "events") return;
  const summary = (await res.json()) as {
    results: { index: number; status: string; error?: unknown }[];
  };
  for (const r of summary.results)
    if (r.status === "rejected") console.warn("trackd refused an event", batch[r.index], r.error);
}

/** Hands `events` to the browser, which sends them even after the page is gone. */
function sendOnLeave(w: Window, url: (path: string) => string, events: Fields[]): void {
  for (let i = 0; i < events.length; i += PER_REQUEST) {
    const { path, text } = requestBody(events.slice(i, i + PER_REQUEST));
    const blob = new Blob([text], { type: "text/plain" });
    if (!w.navigator.sendBeacon?.(url(path), blob))
      void w
        .fetch(url(path), { method: "POST", body: text, keepalive: true, credentials: "omit" })
        .catch(() => {});
  }
}

/** A page view of the current page: vendor and product from init, the title as label. */
function pageView(w: Window, config: Config | null, fields: Fields | undefined): Fields {
  return {
    action: "view",
    object: "page",
    vendor: config?.vendor ?? "Website",
    product: config?.product ?? "Web SDK",
    ...(w.document.title ? { label: w.document.title } : {}),
    ...(fields ?? {}),
  };
}

/** The page as a page view counts it: its URL without the #fragment. */
const pageKey = (w: Window) => w.location.href.split("#")[0]!;

/**
 * A single-page app changes pages with history.pushState and replaceState (and the back
 * button, popstate) without loading one: calls `changed` after each, once the app has had
 * the turn to set the new page's title.
 */
function onNavigation(w: Window, changed: () => void): void {
  const later = () => setTimeout(changed, 0);
  for (const method of ["pushState", "replaceState"] as const) {
    const original = w.history[method];
    w.history[method] = function (this: History, ...args: Parameters<History["pushState"]>) {
      const result = original.apply(this, args);
      later();
      return result;
    };
  }
  w.addEventListener("popstate", later);
}

/**
 * Until a vendor sets one (a chat ID), the visit ID is the instance ID: trackd requires one,
 * and a page view then still joins the shopper's journey.
 */
function defaultInstanceId(event: Fields, visit: Visit): void {
  if (
    event.instanceId === undefined &&
    event.instance_id === undefined &&
    event.instanceID === undefined
  )
    event.instanceId = visit.instanceId ?? visit.id;
}

export function trackdSdk(w: Window): void {
  const store = consentStore(localStore(w));
  const uuid = () => uuidOf(w);
  const api = w as unknown as {
    trackd?: { (...args: unknown[]): void; q?: IArguments[]; loaded?: boolean };
  };
  if (api.trackd?.loaded) return;

  let config: Config | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let sending = false;
  /** The page the last page view was for (a single-page app's navigation changes it). */
  let viewed: string | null = null;
  let watching = false;

  /**
   * The current visit, touched now. A visit ends after 30 idle minutes, or when the shopper
   * arrives from another site; the instance ID set during it (setInstanceId) ends with it.
   */
  const currentVisit = (now: number): Visit => {
    let visit = store.get<Visit>("visit");
    let external = false;
    try {
      external = !!w.document.referrer && new URL(w.document.referrer).host !== w.location.host;
    } catch {
      /* unparseable referrer */
    }
    if (!visit || now - visit.last > VISIT_IDLE_MS || (external && !visitChecked))
      visit = { id: uuid(), last: now };
    visitChecked = true; // an external referrer starts a visit once per page, not per event
    visit.last = now;
    store.set("visit", visit);
    return visit;
  };
  let visitChecked = false;

  const queue = (): Fields[] => store.get<Fields[]>("queue") ?? [];
  const saveQueue = (q: Fields[]) => store.set("queue", q.slice(-MAX_QUEUE));
  const url = (path: string) =>
    `${config!.endpoint.replace(/\/+$/, "")}/collect/${encodeURIComponent(config!.aid)}/${encodeURIComponent(config!.tid)}/${path}?sdk=${SDK}${automation(w)}`;
  /** Sends queued events with fetch; removes them once trackd has answered for them. */
  const flush = async (): Promise<void> => {
    if (!config || sending || !w.navigator.onLine) return;
    const batch = queue().slice(0, PER_REQUEST);
    if (batch.length === 0) return;
    sending = true;
    try {
      const { path, text } = requestBody(batch);
      // A string body is sent as text/plain: a simple request, no preflight.
      const res = await w.fetch(url(path), {
        method: "POST",
        body: text,
        keepalive: text.length < 60000,
        credentials: "omit",
      });
      // 2xx: stored (or a duplicate); 4xx other than 429: it will never be accepted, drop it,
      // never silently: the page's console says why (and trackd's reject log keeps it).
      if (res.ok || (res.status >= 400 && res.status < 500 && res.status !== 429)) {
        const done = new Set(batch.map((e) => e.eventId));
        saveQueue(queue().filter((e) => !done.has(e.eventId)));
        await warnRefused(res, batch, path);
      }
    } catch {
      /* offline or blocked: they stay queued */
    } finally {
      sending = false;
    }
    if (queue().length > 0 && w.navigator.onLine) schedule(1000);
  };

  /** On the way out (they stay queued: the next page confirms them, trackd drops the repeats). */
  const beacon = (): void => {
    if (config) sendOnLeave(w, url, queue());
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
      if (!c?.endpoint || !c.aid || !c.tid)
        throw new Error("trackd('init', { endpoint, aid, tid }) needs all three");
      config = c;
      if (queue().length > 0) schedule(0); // events left from earlier pages
      if (c.pageViews !== false) {
        // After the commands that follow init in the same script (identify, setInstanceId),
        // so the page view carries them.
        queueMicrotask(() => commands.page!(undefined));
        if (!watching)
          onNavigation(w, () => {
            if (config?.pageViews !== false && pageKey(w) !== viewed) commands.page!(undefined);
          });
        watching = true;
      }
    },
    /** A page view of the current page (what init does unless pageViews is false). */
    page(arg) {
      viewed = pageKey(w);
      commands.track!(pageView(w, config, arg as Fields | undefined));
    },
    track(arg) {
      const fields = { ...(arg as Fields) };
      const now = Date.now();
      const visit = currentVisit(now);
      const event: Fields = {
        ...(store.get<Identity>("identity") ?? {}),
        ...store.consent(),
        ...fields,
        eventId: uuid(),
        timestamp: now,
        deviceId: deviceIdOf(store, uuid),
        visitId: visit.id,
        pageUrl: w.location.href,
        ...(w.document.referrer ? { referrer: w.document.referrer } : {}),
        ...metaCookies(w.document),
      };
      defaultInstanceId(event, visit);
      const q = queue();
      q.push(event);
      saveQueue(q);
      schedule(config?.flushIntervalMs ?? 1000);
    },
    /**
     * Who the shopper is, for later events: a user ID as is, email and phone normalized and
     * hashed here (SHA-256), so the raw values never leave the page. null forgets them all.
     */
    identify(arg) {
      if (arg === null) return store.set("identity", {});
      const given = (arg ?? {}) as { userId?: unknown; email?: unknown; phone?: unknown };
      const identity = store.get<Identity>("identity") ?? {};
      if (typeof given.userId === "string" && given.userId !== "") identity.userId = given.userId;
      if (typeof given.email === "string" && normalizeEmail(given.email) !== "")
        identity.emailSha256 = sha256(normalizeEmail(given.email));
      const phone =
        typeof given.phone === "string" ? normalizePhone(given.phone, config?.countryCode) : "";
      if (phone !== "") identity.phoneSha256 = sha256(phone);
      store.set("identity", identity);
    },
    /** The shopper's choice: {analytics, ads}, each "granted" or "denied" (see consentStore). */
    consent(arg) {
      store.setConsent(arg);
    },
    setInstanceId(arg) {
      const visit = currentVisit(Date.now());
      if (arg === null || arg === undefined) delete visit.instanceId;
      else visit.instanceId = String(arg);
      store.set("visit", visit);
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
