// The run page's metrics: a chart per metric, chosen by the metric's kind.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, type MetricInfo, type Run } from "../../api";
import { DocumentMetric } from "../../charts/DocumentMetric";
import { DEFAULT_SETTINGS, LINE_KINDS, LineControls, pointsFor } from "../../charts/LineControls";
import type { LineSettings } from "../../charts/lineOption";
import { SeriesChart } from "../../charts/SeriesChart";
import { ErrorNote, Loading } from "../../components/common";
import { formatValue, isLive } from "../../lib/format";
import { useLoad, useStored, useWidth } from "../../lib/hooks";
import { type ChartSeries, fetchSeries, serverDetail } from "../../lib/seriesFetch";

export function MetricsTab({ run }: { run: Run }) {
  const live = isLive(run.status);
  const infos = useLoad(() => api.metricInfos(run.run_id), [run.run_id], () => live);
  const [settings, setSettings] = useStored<LineSettings>("runhistory.lines", DEFAULT_SETTINGS);
  const [gridRef, width] = useWidth<HTMLDivElement>();
  if (infos.error) return <ErrorNote error={infos.error} />;
  const all = infos.data ?? [];
  const sorted = sortMetrics(all);
  const { single, texts, others } = sorted;
  // The machine's own figures (system/…, sampled by the SDK) get a section of their own.
  const system = sorted.lines.filter((info) => isSystem(info.name));
  const lines = sorted.lines.filter((info) => !isSystem(info.name));
  const columnWidth = width > 1100 ? width / 2 - 40 : width - 40;
  return (
    <div ref={gridRef}>
      {infos.loading && !infos.data && <Loading what="metrics" />}
      {infos.data && !all.length && <p class="muted">This run has no metrics yet.</p>}
      {single.length > 0 && <SummaryTable infos={single} />}
      {(lines.length > 0 || system.length > 0) && <LineControls settings={settings} onChange={setSettings} />}
      <div class="chart-grid">
        {lines.length > 0 && <LineCharts run={run} infos={lines} settings={settings} maxPoints={pointsFor(columnWidth)} />}
        {texts.map((info) => <TextMetric key={info.name} run={run} info={info} />)}
        {others.map((info) => <OtherMetric key={info.name} run={run} info={info} />)}
      </div>
      {system.length > 0 && (
        <section class="system-metrics" data-section="system">
          <h3>System</h3>
          <div class="chart-grid">
            <LineCharts run={run} infos={system} settings={settings} maxPoints={pointsFor(columnWidth)} />
          </div>
        </section>
      )}
    </div>
  );
}

function isSystem(name: string): boolean {
  return name.startsWith("system/");
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
          <SeriesChart key={info.name} name={info.name} lines={[{ label: info.name, series: s, origin }]} settings={settings} maxPoints={maxPoints} detail={serverDetail} />
        ) : (
          <figure key={info.name} class="card chart-card" data-metric={info.name}><figcaption><span class="metric-name">{info.name}</span></figcaption><Loading what="series" /></figure>
        );
      })}
    </>
  );
}

function OtherMetric({ run, info }: { run: Run; info: MetricInfo }) {
  const value = useLoad(() => api.metric(run.run_id, info.name), [run.run_id, info.name, info.count]);
  if (value.error) return <ErrorNote error={value.error} />;
  if (value.data === undefined) return <Loading what={info.name} />;
  return <DocumentMetric name={info.name} kind={info.kind} value={value.data} runId={run.run_id} fileUrl={api.fileUrl} />;
}

const isText = (value: unknown) => typeof value === "string" || typeof value === "boolean";

/** Metrics by how they are shown: one value (summary table), text values, lines, documents. */
export function sortMetrics(infos: MetricInfo[]) {
  const single: MetricInfo[] = [];
  const texts: MetricInfo[] = [];
  const lines: MetricInfo[] = [];
  const others: MetricInfo[] = [];
  for (const info of infos) {
    if (!LINE_KINDS.has(info.kind)) others.push(info);
    else if (info.count <= 1) single.push(info);
    else if (isText(info.last_value) || (Array.isArray(info.last_value) && info.last_value.some(isText))) texts.push(info);
    else lines.push(info);
  }
  return { single, texts, lines, others };
}

/** Metrics logged once: a table of name and value, not a chart with one dot. */
function SummaryTable({ infos }: { infos: MetricInfo[] }) {
  return (
    <section class="card" id="summary">
      <h2>Summary <span class="muted small">metrics logged once</span></h2>
      <table class="data compact summary">
        <thead><tr><th>metric</th><th>value</th><th>step</th></tr></thead>
        <tbody>
          {infos.map((info) => (
            <tr key={info.name} data-summary={info.name}>
              <th>{info.name}</th>
              <td class="value">{formatValue(info.last_value)}</td>
              <td class="num muted">{info.last_step ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** A metric of text values (strings, booleans, lists of strings): its values, newest last. */
function TextMetric({ run, info }: { run: Run; info: MetricInfo }) {
  const history = useLoad(() => api.history(run.run_id, info.name), [run.run_id, info.name, info.count]);
  return (
    <figure class="card chart-card" data-metric={info.name} data-text-metric="true">
      <figcaption><span class="metric-name">{info.name}</span><span class="muted small">{info.count.toLocaleString()} values (text)</span></figcaption>
      {history.error && <ErrorNote error={history.error} />}
      {!history.data ? <Loading what={info.name} /> : (
        <div class="table-scroll">
          <table class="data compact">
            <thead><tr><th>step</th><th>value</th></tr></thead>
            <tbody>
              {history.data.values.slice(-500).map((value, i, shown) => {
                const at = history.data!.values.length - shown.length + i;
                return <tr key={at}><td class="num muted">{history.data!.steps?.[at] ?? at}</td><td>{formatValue(value)}</td></tr>;
              })}
            </tbody>
          </table>
        </div>
      )}
    </figure>
  );
}
