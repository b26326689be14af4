// Small shared pieces: status badge, loading/error states, tag chips, key-value lists.
import type { ComponentChildren } from "preact";
import { isLive } from "../lib/format";

export function StatusBadge({ status }: { status: string }) {
  const live = isLive(status) && status !== "NotStarted";
  return (
    <span class={`badge status-${status}`} data-status={status} aria-label={`status ${status}`}>
      {live && <span class="pulse" aria-hidden="true" />}
      {status}
    </span>
  );
}

export function Loading({ what }: { what: string }) {
  return <p class="muted" role="status">Loading {what}…</p>;
}

export function ErrorNote({ error }: { error: Error }) {
  return (
    <p class="error" role="alert">
      {error.message}
    </p>
  );
}

export function Chips({ values }: { values: Record<string, string | null> }) {
  const entries = Object.entries(values);
  if (!entries.length) return null;
  return (
    <span class="chips">
      {entries.map(([key, value]) => (
        <span class="chip" key={key} title={value === null ? key : `${key}=${value}`}>
          {value === null ? key : `${key}=${value}`}
        </span>
      ))}
    </span>
  );
}

export function KeyValues({ values, empty }: { values: Record<string, unknown>; empty: string }) {
  const entries = Object.entries(values);
  if (!entries.length) return <p class="muted small">{empty}</p>;
  return (
    <dl class="kv">
      {entries.map(([key, value]) => (
        <div key={key}>
          <dt>{key}</dt>
          <dd>{value === null ? <span class="muted">(no value)</span> : typeof value === "string" ? value : JSON.stringify(value)}</dd>
        </div>
      ))}
    </dl>
  );
}

export function Section({ title, children }: { title: string; children: ComponentChildren }) {
  return (
    <section class="card">
      <h2>{title}</h2>
      {children}
    </section>
  );
}
