// Child runs, environment and error details of a run.
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

export function EnvironmentTab({ run }: { run: Run }) {
  const environment = (run.run_definition?.environment ?? {}) as Record<string, unknown>;
  const packages = environment.packages;
  const rest = Object.fromEntries(Object.entries(environment).filter(([key]) => key !== "packages"));
  return (
    <div id="environment">
      <KeyValues values={rest} empty="No environment was recorded for this run." />
      {packages !== undefined && (
        <>
          <h3>Packages</h3>
          {packageList(packages)}
        </>
      )}
      {run.run_definition && (
        <details>
          <summary>Run definition</summary>
          <pre>{JSON.stringify(run.run_definition, null, 2)}</pre>
        </details>
      )}
    </div>
  );
}

function packageList(packages: unknown) {
  const entries: [string, string][] = Array.isArray(packages)
    ? packages.map((p) => [String(p), ""])
    : Object.entries((packages ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)]);
  return (
    <table class="data compact">
      <tbody>{entries.map(([name, version]) => <tr key={name}><td>{name}</td><td>{version}</td></tr>)}</tbody>
    </table>
  );
}

export function ErrorDetails({ run }: { run: Run }) {
  if (!run.error) return null;
  const { message, ...rest } = run.error as { message?: string } & Record<string, unknown>;
  return (
    <section class="card error-card" id="error-details" role="alert">
      <h2>Error</h2>
      {message && <pre class="error-text">{String(message)}</pre>}
      <pre class="small">{JSON.stringify(rest, null, 2)}</pre>
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
