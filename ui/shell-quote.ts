/** Quoting for copy-paste shell snippets: whatever a value holds, the shell reads it as one literal word. */

/** `s` in single quotes, each `'` inside written as `'\''` (POSIX sh, bash, zsh). */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
