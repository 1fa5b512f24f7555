/** A page's form that follows the URL without wiping what was just typed. */
import { useEffect, useRef } from "preact/hooks";

/**
 * Runs `sync` when `key` (the URL's parameters) changes: a link, back or forward. Never on
 * mount, where the form's state was already read from the URL: Preact runs effects after the
 * frame is painted, so a reset then could put the old value over a first fast keystroke.
 */
export function useFollowUrl(key: string, sync: () => void): void {
  const shown = useRef(key);
  useEffect(() => {
    if (shown.current === key) return;
    shown.current = key;
    sync();
  }, [key]);
}
