/** Structured one-line JSON logs on stderr (stdout is left free for event output). */
export type LogLevel = "debug" | "info" | "warn" | "error";

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type Log = Record<LogLevel, (msg: string, fields?: Record<string, unknown>) => void>;

/** syslog priorities: journald reads a leading `<N>` as the line's priority and strips it. */
const PRIORITY: Record<LogLevel, string> = { debug: "<7>", info: "<6>", warn: "<4>", error: "<3>" };

/**
 * A logger that drops lines below `level`; `write` is injectable for tests. With `journal`
 * (start.ts: under systemd, JOURNAL_STREAM set) each line starts with its syslog priority,
 * so `journalctl -p warning` finds the warnings; the JSON after it is unchanged.
 */
export function createLog(
  level: LogLevel,
  write: (line: string) => void = (l) => process.stderr.write(l),
  journal = false,
): Log {
  const make = (lvl: LogLevel) => {
    if (ORDER[lvl] < ORDER[level]) return () => {};
    const prefix = journal ? PRIORITY[lvl] : "";
    return (msg: string, fields: Record<string, unknown> = {}) =>
      write(
        `${prefix}${JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...fields })}\n`,
      );
  };
  return { debug: make("debug"), info: make("info"), warn: make("warn"), error: make("error") };
}
