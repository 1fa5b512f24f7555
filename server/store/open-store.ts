/**
 * Opens the one LMDB environment in the data directory and the stores inside it.
 *
 * Every write goes through lmdb-js's asynchronous writes (event-writer.ts for events): what
 * one turn of the event loop puts is one transaction. Durability: in "durable" mode an
 * append waits for its commit's fsync (lmdb-js's overlapping sync: the fsync runs after the
 * write lock is released, so the next transaction need not wait), and concurrent requests
 * share a commit and its fsync. In "relaxed" mode the environment is opened with noSync: a
 * commit reaches the OS page cache (survives a crash of trackd, not of the machine).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Database, open, type RootDatabase, type RootDatabaseOptionsWithPath } from "lmdb";
import { DeliveryStore } from "./delivery-store.ts";
import { RegistryStore } from "./registry-store.ts";
import { ClientIds } from "./client-ids.ts";
import {
  contactsDb,
  eventsDb,
  leadDeliveriesDb,
  leadTouchesDb,
  linksDb,
  memoryDb,
  metaDb,
} from "./databases.ts";
import { LeadDeliveries } from "./lead-deliveries.ts";
import { ExportCredentials } from "./export-credentials.ts";
import { SECRETS_KEY_FILE, TrackerSecrets } from "./tracker-secrets.ts";
import { AdminCredentials } from "./admin-credentials.ts";
import { AccessLog } from "./access-log.ts";
import { Erasures } from "./erasures.ts";
import { SUPPRESSION_KEY_FILE, Suppressions } from "./suppressions.ts";
import { ContactVault } from "./contact-vault.ts";
import { PII_KEY_FILE, PiiKeys } from "./pii-keys.ts";
import { VisitMemory } from "./visit-memory.ts";
import { EventStore } from "./event-store.ts";
import { type Durability, EventWriter } from "./event-writer.ts";
import { LinkIndex } from "./link-index.ts";
import { ensureStoreFormat } from "./store-format.ts";
import { createLog, type Log } from "../telemetry/log.ts";
import { RejectLog, type RejectRecord } from "./reject-log.ts";
import { RevokedSessions } from "./revoked-sessions.ts";
import { TrackerStats } from "./tracker-stats.ts";

/** The LMDB file in the data directory (with its lock file beside it, trackd.mdb-lock). */
export const STORE_FILE = "trackd.mdb";

/** How every opener (trackd, backup, verify) opens the environment, durability aside. */
export const STORE_OPTIONS = {
  compression: false, // lmdb's compression reads a dictionary from node_modules: not in the binary
  maxDbs: 32, // room to grow: each handle sets its own, the file does not record it
} as const;

const GiB = 1024 ** 3;

/**
 * The address space to reserve for the map. Growing it from lmdb-js's 128 KB default means
 * repeated remaps that stall every writer (a p99 of hundreds of ms under load), so it is
 * reserved up front: the storage cap and 2 GiB more (the file holds freed pages too), or
 * 16 GiB without a cap. Past that lmdb-js still grows it, with one stall. Not more: ARM
 * boards with 39-bit address spaces, and qemu (where the arm64 binary is tested), cannot map
 * 256 GiB. The file itself only grows as data is written.
 */
export const mapSizeFor = (storageMaxBytes: number): number =>
  storageMaxBytes > 0 ? storageMaxBytes + 2 * GiB : 16 * GiB;

export type { Durability };

/** True if a small write to the store's meta database commits now (/readyz). */
export async function canWrite(meta: Database<unknown, string>): Promise<boolean> {
  try {
    await meta.put("probe", Date.now());
    return true;
  } catch {
    return false;
  }
}

export interface Store {
  events: EventStore;
  rejects: RejectLog;
  stats: TrackerStats;
  delivery: DeliveryStore;
  registry: RegistryStore;
  clientIds: ClientIds;
  /** Leads' customers, sealed under keys kept outside the store (pii.keyFile). */
  contacts: ContactVault;
  /** Each lead's deliveries to CRM sinks. */
  leadDeliveries: LeadDeliveries;
  /** Each account's credential for fetching its conversion files. */
  exportCredentials: ExportCredentials;
  /** Trackers' secrets for signed server events (derived under a key file beside the store). */
  trackerSecrets: TrackerSecrets;
  /** Named admin credentials with a role and the accounts they may see. */
  adminCredentials: AdminCredentials;
  /** Who read leads, journeys, events and exports, and when. */
  accessLog: AccessLog;
  /** Identifiers erased on request, kept (keyed hashes) so later events do not link them. */
  suppressions: Suppressions;
  /** The audit of erasures. */
  erasures: Erasures;
  /** Admin sessions ended by logging out. */
  revokedSessions: RevokedSessions;
  /** Resolves once the last day's activity counts are rebuilt after opening. */
  activityReady: Promise<number>;
  /** Bytes the database file takes on disk (LMDB files never shrink; freed pages are reused). */
  fileBytes(): number;
  /** Bytes of pages holding data now: what the storage cap is measured against. */
  usedBytes(): number;
  /** True if a small write can be committed now. */
  writable(): Promise<boolean>;
  close(): Promise<void>;
}

export interface StoreOptions {
  dataDir: string;
  durability: Durability;
  rejectLogSize: number;
  /** How long client event IDs are remembered for deduplication (default 24 hours). */
  dedupeWindowMs?: number;
  /** Where a store-format migration reports its progress (default: warnings and errors only). */
  log?: Log;
  /** The storage cap (config storageMaxBytes, 0: none): sizes the map (mapSizeFor). */
  storageMaxBytes?: number;
  /** The keys that seal customers (pii.keyFile; default <dataDir>/pii-keys.json). */
  piiKeyFile?: string;
  /** How long the access log keeps an entry (admin.accessLogDays; default 365 days). */
  accessLogKeepMs?: number;
}

/**
 * Opens (creating if needed) the store under `dataDir`, migrating an older store format first.
 * Throws StoreFormatError for a data directory written by a newer trackd.
 */
export function openStore(options: StoreOptions): Store {
  mkdirSync(options.dataDir, { recursive: true });
  const path = join(options.dataDir, STORE_FILE);
  const durable = options.durability === "durable";
  const envOptions: RootDatabaseOptionsWithPath = {
    path,
    noSync: !durable,
    // Durable: lmdb-js's overlapping sync, so a commit's fsync runs after LMDB's write lock
    // is released and the next transaction (events, cursors, counters) need not wait for it.
    // A write's promise then resolves once its commit is flushed. (With separateFlushed, the
    // commit and its `flushed` promise apart, durable ingest measured about 0.8 of this.)
    overlappingSync: durable,
    ...STORE_OPTIONS,
    mapSize: mapSizeFor(options.storageMaxBytes ?? 0),
  };
  ensureStoreFormat(envOptions, options.log ?? createLog("warn"));
  const root: RootDatabase = open(envOptions);
  const dedupeWindowMs = options.dedupeWindowMs ?? 86_400_000;
  const meta = metaDb(root);
  const stats = new TrackerStats(root.openDB({ name: "tracker-stats" }));
  const clientIds = new ClientIds(root, dedupeWindowMs);
  const eventsDatabase = eventsDb(root);
  const linksDatabase = linksDb(root);
  const contacts = new ContactVault(
    contactsDb(root),
    new PiiKeys(options.piiKeyFile || join(options.dataDir, PII_KEY_FILE)),
  );
  const suppressions = new Suppressions(root, join(options.dataDir, SUPPRESSION_KEY_FILE));
  const writer = new EventWriter(
    root,
    eventsDatabase,
    linksDatabase,
    clientIds,
    contacts,
    suppressions,
    options.durability,
  );
  const events = new EventStore(
    eventsDatabase,
    new LinkIndex(linksDatabase),
    new VisitMemory(memoryDb(root)),
    leadTouchesDb(root),
    stats,
    writer,
  );
  const leadDeliveries = new LeadDeliveries(leadDeliveriesDb(root));
  const rejectDb = root.openDB<RejectRecord, string>({ name: "rejects" });
  const rejects = new RejectLog(rejectDb, stats, options.rejectLogSize);
  const delivery = new DeliveryStore(root);
  const registry = new RegistryStore(root);
  const revokedSessions = new RevokedSessions(root);
  const exportCredentials = new ExportCredentials(root);
  const trackerSecrets = new TrackerSecrets(root, join(options.dataDir, SECRETS_KEY_FILE));
  const adminCredentials = new AdminCredentials(root);
  const accessLog = new AccessLog(root, options.accessLogKeepMs ?? 365 * 86_400_000);
  const erasures = new Erasures(root);
  // The last day's per-tracker activity lives in memory: rebuilt in the background.
  const activityReady = events.replayActivity(Date.now() - 24 * 3600_000);
  const all = [
    meta,
    rejectDb,
    contacts.database,
    leadDeliveries.database,
    ...events.databases,
    ...delivery.databases,
    ...registry.databases,
    ...clientIds.databases,
    revokedSessions.database,
    exportCredentials.database,
    trackerSecrets.database,
    adminCredentials.database,
    accessLog.database,
    suppressions.database,
    erasures.database,
  ] as { getStats(): unknown }[];

  return {
    events,
    rejects,
    stats,
    delivery,
    registry,
    clientIds,
    contacts,
    leadDeliveries,
    exportCredentials,
    trackerSecrets,
    adminCredentials,
    accessLog,
    suppressions,
    erasures,
    revokedSessions,
    activityReady,
    fileBytes() {
      const s = root.getStats() as { pageSize: number; lastPageNumber: number };
      return s.pageSize * (s.lastPageNumber + 1);
    },
    usedBytes() {
      let pages = 0;
      let pageSize = 4096;
      for (const db of all) {
        const s = db.getStats() as {
          pageSize: number;
          treeBranchPageCount: number;
          treeLeafPageCount: number;
          overflowPages: number;
        };
        pages += s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages;
        pageSize = s.pageSize;
      }
      return pages * pageSize;
    },
    writable: () => canWrite(meta),
    async close() {
      await activityReady;
      await stats.flush();
      await rejects.written();
      await writer.close();
      await root.flushed;
      await root.close();
    },
  };
}
