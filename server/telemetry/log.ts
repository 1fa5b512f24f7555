/** Structured one-line JSON logs on stderr (stdout is left free for event output). */
export type LogLevel = "debug" | "info" | "warn" | "error";

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type Log = Record<LogLevel, (msg: string, fields?: Record<string, unknown>) => void>;

/** A logger that drops lines below `level`; `write` is injectable for tests. */
export function createLog(
  level: LogLevel,
  write: (line: string) => void = (l) => process.stderr.write(l),
): Log {
  const make = (lvl: LogLevel) =>
    ORDER[lvl] < ORDER[level]
      ? () => {}
      : (msg: string, fields: Record<string, unknown> = {}) =>
          write(
            JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...fields }) + "\n",
          );
  return { debug: make("debug"), info: make("info"), warn: make("warn"), error: make("error") };
}
