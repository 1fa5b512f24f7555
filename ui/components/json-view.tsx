/** Stored JSON shown as text (never as HTML), with a copy button. */
import { CopyButton } from "./copy-button.tsx";

export function JsonView({ value, label = "JSON" }: { value: unknown; label?: string }) {
  const text = JSON.stringify(value, null, 2);
  return (
    <div class="json">
      <div class="row">
        <span class="muted">{label}</span>
        <CopyButton text={text} label={`Copy ${label}`} />
      </div>
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard (WCAG 2.1.1) */}
      <pre tabIndex={0}>{text}</pre>
    </div>
  );
}
