// Comparing runs: overlaid metric charts, parallel coordinates, and a tags/properties diff.
import { useEffect, useState } from "preact/hooks";
import { api, type MetricInfo, type Run } from "../api";
import { Parallel } from "../charts/Parallel";
import type { LineSettings } from "../charts/lineOption";
import { SeriesChart } from "../charts/SeriesChart";
import { ErrorNote, Loading, StatusBadge } from "../components/common";
import { runColor } from "../lib/colors";
import { formatValue, isLive, runLabel } from "../lib/format";
import { useLoad, useStored, useWidth } from "../lib/hooks";
import { type ChartSeries, fetchSeries, serverDetail } from "../lib/seriesFetch";
import { href } from "../router";
import { DEFAULT_SETTINGS, LINE_KINDS, LineControls, pointsFor } from "../charts/LineControls";

/** The runs, their metric infos and last values: three requests however many runs. */
async function loadCompare(runIds: string[]) {
  const [runs, infos, last] = await Promise.all([api.runsById(runIds), api.metricInfosOf(runIds), api.last(runIds)]);
  return { runs, infos, last };
}

/** Points per line so that a chart of many runs stays within what the browser draws fast. */
export function comparePoints(width: number, runs: number): number {
  return Math.max(50, Math.min(pointsFor(width), Math.floor(60_000 / Math.max(1, runs))));
}

export function ComparePage({ experimentId, runIds }: { experimentId: string; runIds: string[] }) {
  const loaded = useLoad(() => loadCompare(runIds), [runIds.join(",")], (d) => d?.runs.some((r) => isLive(r.status)) ?? false);
  const [settings, setSettings] = useStored<LineSettings>("runhistory.lines", DEFAULT_SETTINGS);
  const [gridRef, width] = useWidth<HTMLDivElement>();
  if (!runIds.length) return <div class="page"><p>Select runs in an experiment's runs table, then press Compare.</p></div>;
  if (loaded.error) return <div class="page"><ErrorNote error={loaded.error} /></div>;
  const data = loaded.data;
  return (
    <div class="page" ref={gridRef}>
      <nav class="crumbs" aria-label="breadcrumb"><a href={href.experiments()}>Experiments</a> / <a href={href.runs(experimentId)}>{data?.runs[0]?.experiment_name ?? "runs"}</a> / <span>compare</span></nav>
      <h1>Compare {runIds.length} runs</h1>
      {!data ? <Loading what="runs" /> : (
        <>
          <ul class="compare-runs" id="compare-runs">
            {data.runs.map((run) => (
              <li key={run.run_id} data-run={run.run_id}><span class="swatch" style={{ background: runColor(run) }} data-color={runColor(run)} aria-hidden="true" /><StatusBadge status={run.status} /> <a href={href.run(run.experiment_id, run.run_id)}>{runLabel(run)}</a></li>
            ))}
          </ul>
          <LineControls settings={settings} onChange={setSettings} />
          <OverlaidCharts runs={data.runs} infos={data.infos.filter((i) => LINE_KINDS.has(i.kind))} settings={settings} maxPoints={comparePoints(width > 1100 ? width / 2 - 40 : width - 40, data.runs.length)} />
          <section class="card"><h2>Parallel coordinates</h2><Parallel runs={data.runs} last={data.last} /></section>
          <section class="card"><h2>Tags and properties</h2><DiffTable runs={data.runs} /></section>
        </>
      )}
    </div>
  );
}

/** One chart per line metric, every run of ``runs`` overlaid in its own colour. */
export function OverlaidCharts({ runs, infos, settings, maxPoints }: { runs: Run[]; infos: MetricInfo[]; settings: LineSettings; maxPoints: number }) {
  const [series, setSeries] = useState<ChartSeries[] | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const time = settings.xMode !== "step";
  const names = [...new Set(infos.map((i) => i.name))].sort();
  const version = infos.map((i) => `${i.run_id}:${i.name}:${i.count}`).join("|");
  useEffect(() => {
    if (!names.length) return;
    fetchSeries(runs.map((r) => r.run_id), infos, maxPoints, time).then(setSeries, setError);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [version, maxPoints, time]);
  if (error) return <ErrorNote error={error} />;
  if (!names.length) return <p class="muted">These runs have no line metrics.</p>;
  if (!series) return <Loading what="series" />;
  const byRun = new Map(runs.map((run) => [run.run_id, run]));
  return (
    <div class="chart-grid">
      {names.map((name) => {
        const lines = series.filter((s) => s.name === name && byRun.has(s.run_id)).map((s) => {
          const run = byRun.get(s.run_id)!;
          return { label: runLabel(run), series: s, origin: run.start_time ?? run.created_time, color: runColor(run) };
        });
        return <SeriesChart key={name} name={name} lines={lines} settings={settings} maxPoints={maxPoints} detail={serverDetail} />;
      })}
    </div>
  );
}

function DiffTable({ runs }: { runs: Run[] }) {
  const [onlyDiffs, setOnlyDiffs] = useState(true);
  const rows: [string, (r: Run) => string | null | undefined][] = [
    ["status", (r) => r.status],
    ["type", (r) => r.run_type],
    ...[...new Set(runs.flatMap((r) => Object.keys(r.tags)))].sort().map((k) => [`tag: ${k}`, (r: Run) => (k in r.tags ? (r.tags[k] ?? "(no value)") : undefined)] as [string, (r: Run) => string | null | undefined]),
    ...[...new Set(runs.flatMap((r) => Object.keys(r.properties)))].sort().map((k) => [`property: ${k}`, (r: Run) => r.properties[k]] as [string, (r: Run) => string | null | undefined]),
  ];
  const differing = (get: (r: Run) => string | null | undefined) => new Set(runs.map(get).map((v) => v ?? "∅")).size > 1;
  const hidden = rows.filter(([, get]) => !differing(get)).length;
  return (
    <div class="table-scroll">
      <label class="small"><input type="checkbox" checked={onlyDiffs} onChange={(e) => setOnlyDiffs(e.currentTarget.checked)} /> only differences</label>
      {onlyDiffs && hidden > 0 && <span class="muted small" id="diff-hidden"> · {hidden} equal {hidden === 1 ? "row" : "rows"} hidden</span>}
      <table class="data diff" id="diff">
        <thead><tr><th>key</th>{runs.map((r) => <th key={r.run_id}>{runLabel(r)}</th>)}</tr></thead>
        <tbody>
          {rows.map(([key, get]) => {
            const values = runs.map(get);
            const differs = differing(get);
            if (onlyDiffs && !differs) return null;
            return (
              <tr key={key} class={differs ? "differs" : ""} data-differs={differs}>
                <th>{key}</th>
                {values.map((v, i) => <td key={i}>{v === undefined ? <span class="muted">—</span> : formatValue(v)}</td>)}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
