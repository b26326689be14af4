// The run page's metrics: a chart per metric, chosen by the metric's kind.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, type MetricInfo, type Run } from "../../api";
import { Images } from "../../charts/Images";
import type { LineSettings, XMode } from "../../charts/lineOption";
import { SeriesChart } from "../../charts/SeriesChart";
import { AccuracyTable, ConfusionMatrix, Predictions, Residuals } from "../../charts/Structured";
import { TableMetric } from "../../charts/TableMetric";
import { ErrorNote, Loading } from "../../components/common";
import { isLive } from "../../lib/format";
import { useLoad, useStored, useWidth } from "../../lib/hooks";
import { type ChartSeries, fetchSeries } from "../../lib/seriesFetch";

export const LINE_KINDS = new Set(["scalar", "list"]);

/** Points per series: about one per horizontal pixel of a chart. */
export function pointsFor(width: number): number {
  return Math.max(100, Math.min(2000, Math.round(width)));
}

export function LineControls({ settings, onChange }: { settings: LineSettings; onChange: (s: LineSettings) => void }) {
  return (
    <div class="toolbar chart-controls" role="group" aria-label="chart settings">
      <label>x axis{" "}
        <select value={settings.xMode} onChange={(e) => onChange({ ...settings, xMode: e.currentTarget.value as XMode })}>
          <option value="step">step</option>
          <option value="time">time</option>
          <option value="relative">relative time</option>
        </select>
      </label>
      <label><input type="checkbox" checked={settings.logY} onChange={(e) => onChange({ ...settings, logY: e.currentTarget.checked })} /> log y</label>
      <label>smoothing{" "}
        <input type="range" min={0} max={0.99} step={0.01} value={settings.smoothing} aria-label="smoothing"
          onInput={(e) => onChange({ ...settings, smoothing: Number(e.currentTarget.value) })} />
        <span class="small">{settings.smoothing.toFixed(2)}</span>
      </label>
    </div>
  );
}

export const DEFAULT_SETTINGS: LineSettings = { xMode: "step", logY: false, smoothing: 0 };

export function MetricsTab({ run }: { run: Run }) {
  const live = isLive(run.status);
  const infos = useLoad(() => api.metricInfos(run.run_id), [run.run_id], () => live);
  const [settings, setSettings] = useStored<LineSettings>("runhistory.lines", DEFAULT_SETTINGS);
  const [gridRef, width] = useWidth<HTMLDivElement>();
  if (infos.error) return <ErrorNote error={infos.error} />;
  const all = infos.data ?? [];
  const lines = all.filter((info) => LINE_KINDS.has(info.kind));
  const others = all.filter((info) => !LINE_KINDS.has(info.kind));
  const columnWidth = width > 1100 ? width / 2 - 40 : width - 40;
  return (
    <div ref={gridRef}>
      {infos.loading && !infos.data && <Loading what="metrics" />}
      {infos.data && !all.length && <p class="muted">This run has no metrics yet.</p>}
      {lines.length > 0 && <LineControls settings={settings} onChange={setSettings} />}
      <div class="chart-grid">
        {lines.length > 0 && <LineCharts run={run} infos={lines} settings={settings} maxPoints={pointsFor(columnWidth)} />}
        {others.map((info) => <OtherMetric key={info.name} run={run} info={info} />)}
      </div>
    </div>
  );
}

function LineCharts({ run, infos, settings, maxPoints }: { run: Run; infos: MetricInfo[]; settings: LineSettings; maxPoints: number }) {
  const [series, setSeries] = useState<Map<string, ChartSeries>>(new Map());
  const [error, setError] = useState<Error | null>(null);
  const version = infos.map((info) => `${info.name}:${info.count}`).join("|");
  const time = settings.xMode !== "step";
  const generation = useRef(0);
  useEffect(() => {
    const mine = ++generation.current;
    fetchSeries([run.run_id], infos, maxPoints, time)
      .then((found) => {
        if (mine !== generation.current) return;
        setSeries(new Map(found.map((s) => [s.name, s])));
        setError(null);
      })
      .catch((reason: Error) => mine === generation.current && setError(reason));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [run.run_id, version, maxPoints, time]);
  const origin = run.start_time ?? run.created_time;
  return (
    <>
      {error && <div class="wide-row"><ErrorNote error={error} /></div>}
      {infos.map((info) => {
        const s = series.get(info.name);
        return s ? (
          <SeriesChart key={info.name} name={info.name} lines={[{ label: info.name, series: s, origin }]} settings={settings} maxPoints={maxPoints} />
        ) : (
          <figure key={info.name} class="card chart-card" data-metric={info.name}><figcaption><span class="metric-name">{info.name}</span></figcaption><Loading what="series" /></figure>
        );
      })}
    </>
  );
}

function OtherMetric({ run, info }: { run: Run; info: MetricInfo }) {
  const value = useLoad(() => api.metric(run.run_id, info.name), [run.run_id, info.name, info.count]);
  const content = useMemo(() => {
    if (value.error) return <ErrorNote error={value.error} />;
    if (value.data === undefined) return <Loading what={info.name} />;
    const latest = Array.isArray(value.data) && info.kind !== "image" ? value.data.at(-1) : value.data;
    switch (info.kind) {
      case "row":
      case "table":
        return <TableMetric name={info.name} value={value.data} />;
      case "image":
        return <Images name={info.name} value={value.data} runId={run.run_id} />;
      case "confusion_matrix":
        return <ConfusionMatrix name={info.name} doc={latest} />;
      case "accuracy_table":
        return <AccuracyTable name={info.name} doc={latest} />;
      case "residuals":
        return <Residuals name={info.name} doc={latest} />;
      case "predictions":
        return <Predictions name={info.name} doc={latest} />;
      default:
        return <pre>{JSON.stringify(value.data, null, 2)}</pre>;
    }
  }, [value.data, value.error, info, run.run_id]);
  return content;
}
