// A HyperDrive parent's sweep tab: every child's primary metric over time, parallel coordinates
// of the children's hyper-parameters (their properties) coloured by that metric, and the
// children ranked by it with the best one marked.
import { useMemo } from "preact/hooks";
import { api, type Run, type Series } from "../../api";
import { DEFAULT_SETTINGS } from "../../charts/LineControls";
import { Parallel } from "../../charts/Parallel";
import { SeriesChart } from "../../charts/SeriesChart";
import { ErrorNote, Loading, StatusBadge } from "../../components/common";
import { formatValue, isLive, runLabel } from "../../lib/format";
import { useLoad } from "../../lib/hooks";
import { href } from "../../router";
import { isHyperparameter } from "../../widget/Sweep";

export const SWEEP_RUN_TYPE = "hyperdrive";

interface PrimaryMetric {
  name: string;
  maximize: boolean;
}

/** The sweep's primary metric, from the parent's ``primary_metric_config`` property. */
export function primaryMetric(run: Run): PrimaryMetric | null {
  try {
    const config = JSON.parse(run.properties.primary_metric_config ?? "null") as { name?: string; goal?: string } | null;
    if (config?.name) return { name: config.name, maximize: (config.goal ?? "").toLowerCase() !== "minimize" };
  } catch {
    // not JSON: no primary metric to show
  }
  return null;
}

interface SweepData {
  children: Run[];
  series: Series[];
  last: Record<string, Record<string, unknown>>;
  time: boolean;
}

async function loadSweep(run: Run, metric: string): Promise<SweepData> {
  const children = await api.children(run.run_id);
  const ids = children.map((c) => c.run_id);
  if (!ids.length) return { children, series: [], last: {}, time: false };
  const time = await api.offersTimeSeries();
  const request = { run_ids: ids, names: [metric], max_points: 2000 };
  const [series, last] = await Promise.all([
    api.series(time ? { ...request, x: "time" as const } : request),
    api.last(ids, [metric]),
  ]);
  return { children, series, last, time };
}

/** Each child's best value of the metric (max or min as the goal says). */
function bestValues(series: Series[], maximize: boolean): Map<string, number> {
  const best = new Map<string, number>();
  for (const s of series) {
    const values = s.y.filter((v): v is number => typeof v === "number");
    if (values.length) best.set(s.run_id, maximize ? Math.max(...values) : Math.min(...values));
  }
  return best;
}

export function SweepTab({ run }: { run: Run }) {
  const primary = primaryMetric(run);
  const metric = primary?.name ?? "";
  const loaded = useLoad(
    () => loadSweep(run, metric),
    [run.run_id, metric],
    (data) => isLive(run.status) || (data?.children ?? []).some((c) => isLive(c.status)),
  );
  const data = loaded.data;
  const ranked = useMemo(() => {
    if (!data || !primary) return [];
    const best = bestValues(data.series, primary.maximize);
    const sign = primary.maximize ? -1 : 1;
    return [...data.children].sort((a, b) => {
      const va = best.get(a.run_id);
      const vb = best.get(b.run_id);
      if (va === undefined || vb === undefined) return va === undefined ? (vb === undefined ? 0 : 1) : -1;
      return sign * (va - vb);
    }).map((child) => ({ child, best: best.get(child.run_id) }));
  }, [data, primary?.name, primary?.maximize]);
  const lines = useMemo(() => {
    const byId = new Map((data?.children ?? []).map((c) => [c.run_id, c]));
    return (data?.series ?? []).filter((s) => byId.has(s.run_id)).map((s) => {
      const child = byId.get(s.run_id)!;
      return { label: runLabel(child), series: s, origin: child.start_time ?? child.created_time };
    });
  }, [data]);
  if (!primary) return <p class="muted">This sweep has no primary metric recorded.</p>;
  if (loaded.error) return <ErrorNote error={loaded.error} />;
  if (!data) return <Loading what="the sweep" />;
  if (!data.children.length) return <p class="muted">The sweep has started no child runs yet.</p>;
  const bestId = ranked[0]?.best !== undefined ? ranked[0].child.run_id : null;
  const settings = data.time ? { ...DEFAULT_SETTINGS, xMode: "time" as const } : DEFAULT_SETTINGS;
  return (
    <div id="sweep">
      <p class="muted small">
        {data.children.length} child runs · primary metric <code>{metric}</code> ({primary.maximize ? "maximize" : "minimize"})
      </p>
      <div class="chart-grid">
        {lines.length > 0 && <SeriesChart name={metric} lines={lines} settings={settings} maxPoints={2000} />}
        <figure class="card chart-card" data-chart-card="parallel coordinates">
          <figcaption><span class="metric-name">hyper-parameters</span><span class="muted small">coloured by {metric}</span></figcaption>
          <Parallel runs={data.children} last={data.last} keepProperty={isHyperparameter} metrics={[metric]} colorBy={metric} />
        </figure>
      </div>
      <table class="data" id="sweep-children">
        <thead><tr><th>Rank</th><th>Status</th><th>Run</th><th>Hyper-parameters</th><th class="num">Best {metric}</th></tr></thead>
        <tbody>
          {ranked.map(({ child, best }, index) => (
            <tr key={child.run_id} data-run={child.run_id} class={child.run_id === bestId ? "best" : ""}>
              <td class="num">{best === undefined ? "" : index + 1}</td>
              <td><StatusBadge status={child.status} /></td>
              <td>
                <a href={href.run(child.experiment_id, child.run_id)}>{runLabel(child)}</a>
                {child.run_id === bestId && <strong class="best-mark" title="best run by the primary metric"> ★ best</strong>}
              </td>
              <td><code>{Object.entries(child.properties).filter(([k]) => isHyperparameter(k)).map(([k, v]) => `${k}=${v}`).join(" ")}</code></td>
              <td class="num">{best === undefined ? "" : formatValue(best)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
