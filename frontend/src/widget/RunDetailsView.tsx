// The notebook widget's view of a run, drawn with the studio's own components from the state
// the kernel sends (the kernel polls the run; this view never calls the server).
import { useEffect, useMemo, useState } from "preact/hooks";
import type { MetricInfo, Run, Series } from "../api";
import { DocumentMetric } from "../charts/DocumentMetric";
import { DEFAULT_SETTINGS, LineControls, pointsFor } from "../charts/LineControls";
import type { LineSettings } from "../charts/lineOption";
import type { DetailFetcher } from "../charts/SeriesChart";
import { SeriesChart } from "../charts/SeriesChart";
import { Chips, KeyValues, StatusBadge } from "../components/common";
import { durationSeconds, formatDuration, isLive } from "../lib/format";
import { useInterval, useWidth } from "../lib/hooks";
import { href } from "../router";
import { ChildRunsSection } from "./ChildRuns";
import { useTrait, type WidgetModel } from "./model";
import { SweepSection } from "./Sweep";

export interface Links {
  studio: string;
  /** The studio page of a run, or undefined when no studio URL is known. */
  run: (run: Run) => string | undefined;
}

function useLinks(model: WidgetModel): Links {
  const studio = useTrait<string>(model, "studio_url");
  return useMemo(() => ({
    studio,
    run: (run: Run) => (studio ? `${studio}/${href.run(run.experiment_id, run.run_id)}` : undefined),
  }), [studio]);
}

/** Report the charts' width to the kernel: it downsamples series to about a point per pixel. */
function usePointBudget(model: WidgetModel, width: number): number {
  const columnWidth = width > 1100 ? width / 2 - 40 : width - 40;
  const points = pointsFor(columnWidth);
  useEffect(() => {
    const current = Number(model.get("max_points"));
    if (Math.abs(current - points) > current * 0.1) {
      model.set("max_points", points);
      model.save_changes();
    }
  }, [model, points]);
  return points;
}

export function RunDetailsView({ model, detail }: { model: WidgetModel; detail: DetailFetcher }) {
  const run = useTrait<Run>(model, "run");
  const polling = useTrait<boolean>(model, "polling");
  const error = useTrait<string>(model, "error");
  const links = useLinks(model);
  const [ref, width] = useWidth<HTMLDivElement>();
  const maxPoints = usePointBudget(model, width);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const select = (runId: string, on: boolean) => {
    const next = new Set(selected);
    if (on) next.add(runId);
    else next.delete(runId);
    setSelected(next);
  };
  if (!run?.run_id) return <p class="muted">Loading the run…</p>;
  return (
    <div class="rh-widget-body" ref={ref} data-run={run.run_id}>
      <Header run={run} polling={polling} links={links} />
      {error && <p class="error small" role="alert" id="refresh-error">{error}</p>}
      {run.error && <pre class="error-text small" id="run-error">{String((run.error as { message?: string }).message ?? JSON.stringify(run.error))}</pre>}
      <div class="two-col">
        <section class="card" id="tags"><h2>Tags</h2>{Object.keys(run.tags).length ? <Chips values={run.tags} /> : <p class="muted small">No tags.</p>}</section>
        <section class="card" id="properties"><h2>Properties</h2><KeyValues values={run.properties} empty="No properties." /></section>
      </div>
      <SweepSection model={model} maxPoints={maxPoints} selected={selected} />
      <MetricsSection model={model} run={run} maxPoints={maxPoints} detail={detail} />
      <ChildRunsSection model={model} links={links} selected={selected} onSelect={select} />
      <LogSection model={model} />
    </div>
  );
}

function Header({ run, polling, links }: { run: Run; polling: boolean; links: Links }) {
  const [, tick] = useState(0);
  useInterval(() => tick((n) => n + 1), isLive(run.status) ? 1000 : null);
  const page = links.run(run);
  return (
    <header class="run-header">
      <h1>{run.display_name || `Run ${run.number}`} <StatusBadge status={run.status} /></h1>
      <p class="muted small">
        {run.experiment_name} · #{run.number} · <code>{run.run_id}</code> · {run.run_type}
        {" · "}<span id="duration">duration {formatDuration(durationSeconds(run.start_time, run.end_time)) || "—"}</span>
        {polling && <> · <span class="live">refreshing</span></>}
        {" · "}
        {page ? <a href={page} target="_blank" rel="noreferrer" id="studio-link">open in the studio</a>
          : <span title="start `runhistory ui` on this workspace, or set RUNHISTORY_STUDIO_URL">no studio link</span>}
      </p>
    </header>
  );
}

function MetricsSection({ model, run, maxPoints, detail }: { model: WidgetModel; run: Run; maxPoints: number; detail: DetailFetcher }) {
  const hasChildren = (useTrait<Run[]>(model, "children") ?? []).length > 0;
  const infos = useTrait<MetricInfo[]>(model, "metrics") ?? [];
  const series = useTrait<Series[]>(model, "series") ?? [];
  const documents = useTrait<Record<string, unknown>>(model, "documents") ?? {};
  const [settings, setSettings] = useState<LineSettings>(DEFAULT_SETTINGS);
  const origin = run.start_time ?? run.created_time;
  const kinds = new Map(infos.map((info) => [info.name, info.kind]));
  if (!infos.length) {
    if (hasChildren) return null; // a parent's metrics are its children's
    return <section class="card" id="metrics"><h2>Metrics</h2><p class="muted small">No metrics{isLive(run.status) ? " yet" : ""}.</p></section>;
  }
  return (
    <section id="metrics">
      {series.length > 0 && <LineControls settings={settings} onChange={setSettings} xModes={["step"]} />}
      <div class="chart-grid">
        {series.map((s) => (
          <SeriesChart key={s.name} name={s.name} lines={[{ label: s.name, series: s, origin }]} settings={settings} maxPoints={maxPoints} detail={detail} />
        ))}
        {Object.entries(documents).map(([name, value]) => (
          <DocumentMetric key={name} name={name} kind={kinds.get(name) ?? ""} value={value} runId={run.run_id} />
        ))}
      </div>
    </section>
  );
}

function LogSection({ model }: { model: WidgetModel }) {
  const log = useTrait<{ name: string; text: string; size: number }>(model, "log");
  if (!log?.name) return null;
  return (
    <section class="card" id="log">
      <h2>Log <span class="muted small">{log.name} (last lines)</span></h2>
      <pre class="log" tabIndex={0} aria-label={`log ${log.name}`}>{log.text}</pre>
    </section>
  );
}

