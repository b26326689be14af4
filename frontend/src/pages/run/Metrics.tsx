// The run page's metrics: a chart per metric, chosen by the metric's kind.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, type MetricInfo, type Run } from "../../api";
import { DocumentMetric } from "../../charts/DocumentMetric";
import { DEFAULT_SETTINGS, LINE_KINDS, LineControls, pointsFor } from "../../charts/LineControls";
import type { LineSettings } from "../../charts/lineOption";
import { SeriesChart } from "../../charts/SeriesChart";
import { ErrorNote, Loading } from "../../components/common";
import { isLive } from "../../lib/format";
import { useLoad, useStored, useWidth } from "../../lib/hooks";
import { type ChartSeries, fetchSeries, serverDetail } from "../../lib/seriesFetch";

export function MetricsTab({ run }: { run: Run }) {
  const live = isLive(run.status);
  const infos = useLoad(() => api.metricInfos(run.run_id), [run.run_id], () => live);
  const [settings, setSettings] = useStored<LineSettings>("runhistory.lines", DEFAULT_SETTINGS);
  const [gridRef, width] = useWidth<HTMLDivElement>();
  if (infos.error) return <ErrorNote error={infos.error} />;
  const all = infos.data ?? [];
  // The machine's own figures (system/…, sampled by the SDK) get a section of their own.
  const system = all.filter((info) => LINE_KINDS.has(info.kind) && isSystem(info.name));
  const lines = all.filter((info) => LINE_KINDS.has(info.kind) && !isSystem(info.name));
  const others = all.filter((info) => !LINE_KINDS.has(info.kind));
  const columnWidth = width > 1100 ? width / 2 - 40 : width - 40;
  return (
    <div ref={gridRef}>
      {infos.loading && !infos.data && <Loading what="metrics" />}
      {infos.data && !all.length && <p class="muted">This run has no metrics yet.</p>}
      {(lines.length > 0 || system.length > 0) && <LineControls settings={settings} onChange={setSettings} />}
      <div class="chart-grid">
        {lines.length > 0 && <LineCharts run={run} infos={lines} settings={settings} maxPoints={pointsFor(columnWidth)} />}
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
