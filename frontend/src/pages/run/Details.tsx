// Child runs, environment and error details of a run.
import { useState } from "preact/hooks";
import { api, type Run } from "../../api";
import { ErrorNote, KeyValues, Loading, StatusBadge } from "../../components/common";
import { durationSeconds, formatDuration, formatTime, isLive } from "../../lib/format";
import { useLoad } from "../../lib/hooks";
import { href } from "../../router";

export function ChildrenTab({ run }: { run: Run }) {
  const children = useLoad(() => api.children(run.run_id), [run.run_id], (data) => isLive(run.status) || (data ?? []).some((c) => isLive(c.status)));
  if (children.error) return <ErrorNote error={children.error} />;
  if (!children.data) return <Loading what="child runs" />;
  if (!children.data.length) return <p class="muted">This run has no child runs.</p>;
  return (
    <table class="data" id="children">
      <thead><tr><th>Status</th><th>#</th><th>Name</th><th>Duration</th><th>Started</th></tr></thead>
      <tbody>
        {children.data.map((child) => (
          <tr key={child.run_id} data-run={child.run_id}>
            <td><StatusBadge status={child.status} /></td>
            <td class="num">{child.number}</td>
            <td><a href={href.run(child.experiment_id, child.run_id)}>{child.display_name || child.run_id}</a></td>
            <td>{formatDuration(durationSeconds(child.start_time, child.end_time))}</td>
            <td>{formatTime(child.start_time)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Packages of an environment as (name, version) pairs: a ``{name: version}`` dict or a list of
 *  ``name==version`` (or plain name) strings, at ``packages`` or ``python.packages``. */
export function packagesOf(environment: Record<string, unknown>): [string, string][] | null {
  const python = (environment.python ?? {}) as Record<string, unknown>;
  const found = environment.packages ?? (typeof python === "object" ? python.packages : undefined);
  if (found === undefined || found === null) return null;
  if (Array.isArray(found)) {
    return found.map((item) => {
      const text = String(item);
      const at = text.search(/[=<>~!]=|[<>]/);
      return at < 0 ? [text, ""] : [text.slice(0, at), text.slice(at).replace(/^==/, "")];
    });
  }
  if (typeof found === "object") return Object.entries(found as Record<string, unknown>).map(([k, v]) => [k, String(v)]);
  return [[String(found), ""]];
}

function withoutPackages(environment: Record<string, unknown>): Record<string, unknown> {
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(environment)) {
    if (key === "packages") continue;
    if (key === "python" && value && typeof value === "object" && !Array.isArray(value)) {
      for (const [inner, item] of Object.entries(value as Record<string, unknown>)) {
        if (inner !== "packages") rest[`python ${inner}`] = item;
      }
    } else rest[key] = value;
  }
  return rest;
}

export function EnvironmentTab({ run }: { run: Run }) {
  const environment = (run.run_definition?.environment ?? {}) as Record<string, unknown>;
  const packages = packagesOf(environment);
  return (
    <div id="environment">
      <KeyValues values={withoutPackages(environment)} empty="No environment was recorded for this run." />
      {packages !== null && <PackageTable packages={packages} />}
      {run.run_definition && (
        <details>
          <summary>Run definition</summary>
          <pre>{JSON.stringify(run.run_definition, null, 2)}</pre>
        </details>
      )}
    </div>
  );
}

function PackageTable({ packages }: { packages: [string, string][] }) {
  const [search, setSearch] = useState("");
  const wanted = search.trim().toLowerCase();
  const shown = packages
    .filter(([name, version]) => !wanted || name.toLowerCase().includes(wanted) || version.toLowerCase().includes(wanted))
    .sort(([a], [b]) => a.localeCompare(b, undefined, { sensitivity: "base" }));
  return (
    <section id="packages">
      <h3>Packages <span class="muted small">{shown.length === packages.length ? packages.length : `${shown.length} of ${packages.length}`}</span></h3>
      <input type="search" value={search} placeholder="search packages" aria-label="search packages" onInput={(e) => setSearch(e.currentTarget.value)} />
      <div class="table-scroll">
        <table class="data compact" id="package-table">
          <thead><tr><th>package</th><th>version</th></tr></thead>
          <tbody>{shown.map(([name, version]) => <tr key={name} data-package={name}><td>{name}</td><td>{version}</td></tr>)}</tbody>
        </table>
      </div>
    </section>
  );
}

export function ErrorDetails({ run }: { run: Run }) {
  if (!run.error) return null;
  const { message, traceback, ...rest } = run.error as { message?: string; traceback?: string } & Record<string, unknown>;
  return (
    <section class="card error-card" id="error-details" role="alert">
      <h2>Error</h2>
      {message && <pre class="error-text traceback">{String(message)}</pre>}
      {Object.keys(rest).length > 0 && (
        <dl class="kv error-fields">
          {Object.entries(rest).map(([key, value]) => (
            <div key={key}><dt>{key}</dt><dd>{typeof value === "string" ? value : JSON.stringify(value, null, 2)}</dd></div>
          ))}
        </dl>
      )}
      {typeof traceback === "string" && traceback && (
        <details open>
          <summary>Traceback</summary>
          <pre class="traceback" id="traceback">{traceback}</pre>
        </details>
      )}
    </section>
  );
}

export function timesLine(run: Run): string {
  const parts = [`created ${formatTime(run.created_time)}`];
  if (run.start_time) parts.push(`started ${formatTime(run.start_time)}`);
  if (run.end_time) parts.push(`ended ${formatTime(run.end_time)}`);
  const duration = durationSeconds(run.start_time, run.end_time);
  if (duration !== null) parts.push(`duration ${formatDuration(duration)}`);
  return parts.join(" · ");
}
