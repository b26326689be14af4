// Over an experiment's runs: a parameter against a metric's last value (scatter plot), and
// each numeric parameter's correlation with that metric (a sorted bar list).
import { useMemo, useState } from "preact/hooks";
import { api, type Run } from "../api";
import { Chart } from "../charts/Chart";
import type { Option } from "../charts/echarts";
import { ErrorNote, Loading } from "../components/common";
import { runColor } from "../lib/colors";
import { runLabel } from "../lib/format";
import { useLoad } from "../lib/hooks";
import { asNumber, correlations, type Parameter } from "../lib/importance";

/** The parameters a run can be described by: its properties, tags and metrics' last values. */
export function parametersOf(runs: Run[], last: Record<string, Record<string, unknown>>): Parameter[] {
  const found = new Map<string, Parameter>();
  const add = (label: string, runId: string, value: unknown) => {
    let parameter = found.get(label);
    if (!parameter) found.set(label, (parameter = { label, values: new Map() }));
    parameter.values.set(runId, value);
  };
  for (const run of runs) {
    for (const [key, value] of Object.entries(run.properties)) add(`property: ${key}`, run.run_id, value);
    for (const [key, value] of Object.entries(run.tags)) if (value !== null) add(`tag: ${key}`, run.run_id, value);
    for (const [name, value] of Object.entries(last[run.run_id] ?? {})) add(`metric: ${name}`, run.run_id, value);
  }
  return [...found.values()].sort((a, b) => a.label.localeCompare(b.label));
}

/** The metrics with a numeric last value, those most runs have first (then by name). */
function numericMetrics(runs: Run[], last: Record<string, Record<string, unknown>>): string[] {
  const counts = new Map<string, number>();
  for (const run of runs) {
    for (const [name, value] of Object.entries(last[run.run_id] ?? {})) {
      if (asNumber(value) !== null && typeof value !== "string") counts.set(name, (counts.get(name) ?? 0) + 1);
    }
  }
  return [...counts.keys()].sort((a, b) => counts.get(b)! - counts.get(a)! || a.localeCompare(b));
}

export function ExperimentAnalysis({ runs }: { runs: Run[] }) {
  const key = runs.map((run) => run.run_id).join(",");
  const last = useLoad(() => (runs.length ? api.last(runs.map((run) => run.run_id)) : Promise.resolve({} as Record<string, Record<string, unknown>>)), [key]);
  const [metric, setMetric] = useState<string | null>(null);
  const [chosenX, setChosenX] = useState<string | null>(null);
  const data = last.data;
  const parameters = useMemo(() => (data ? parametersOf(runs, data) : []), [data, key]);
  const metrics = useMemo(() => (data ? numericMetrics(runs, data) : []), [data, key]);
  const y = metric && metrics.includes(metric) ? metric : metrics[0];
  const target = useMemo(() => {
    const values = new Map<string, number>();
    if (!data || !y) return values;
    for (const run of runs) {
      const value = asNumber(data[run.run_id]?.[y]);
      if (value !== null && typeof data[run.run_id]?.[y] !== "string") values.set(run.run_id, value);
    }
    return values;
  }, [data, y, key]);
  const ranked = useMemo(() => correlations(parameters.filter((p) => p.label !== `metric: ${y}`), target), [parameters, target, y]);
  if (last.error) return <ErrorNote error={last.error} />;
  if (!data) return <Loading what="last values" />;
  if (!y) return <p class="muted">No numeric metrics to analyse over these runs.</p>;
  const candidates = parameters.filter((p) => p.label !== `metric: ${y}`);
  const x = chosenX && candidates.some((p) => p.label === chosenX) ? chosenX : (ranked[0]?.label ?? candidates[0]?.label);
  const xParameter = candidates.find((p) => p.label === x);
  return (
    <section class="card" id="experiment-analysis" aria-labelledby="analysis-title">
      <h2 id="analysis-title">Parameters and metrics <span class="muted small">over {runs.length} runs, each metric's last value</span></h2>
      <div class="toolbar" role="group" aria-label="analysis settings">
        <label>metric{" "}
          <select value={y} onChange={(e) => setMetric(e.currentTarget.value)} aria-label="metric to analyse">
            {metrics.map((name) => <option key={name} value={name}>{name}</option>)}
          </select>
        </label>
        <label>x{" "}
          <select value={x} onChange={(e) => setChosenX(e.currentTarget.value)} aria-label="parameter on the x axis">
            {candidates.map((p) => <option key={p.label} value={p.label}>{p.label}</option>)}
          </select>
        </label>
      </div>
      <div class="two-col">
        <div>{xParameter ? <Scatter runs={runs} parameter={xParameter} metric={y} target={target} /> : <p class="muted">No parameters to plot.</p>}</div>
        <Importance ranked={ranked} metric={y} onPick={setChosenX} />
      </div>
    </section>
  );
}

function Scatter({ runs, parameter, metric, target }: { runs: Run[]; parameter: Parameter; metric: string; target: Map<string, number> }) {
  const option = useMemo<Option>(() => {
    const points = runs.flatMap((run) => {
      const raw = parameter.values.get(run.run_id);
      const y = target.get(run.run_id);
      return raw === undefined || raw === null || y === undefined ? [] : [{ run, raw, y }];
    });
    const numeric = points.every((p) => asNumber(p.raw) !== null);
    const categories = numeric ? [] : [...new Set(points.map((p) => String(p.raw)))].sort();
    return {
      title: { text: `${metric} against ${parameter.label}`, show: false },
      tooltip: { trigger: "item", formatter: (item: { data: { name: string; value: [unknown, number] } }) => `${item.data.name}<br/>${parameter.label}: ${String(item.data.value[0])}<br/>${metric}: ${item.data.value[1]}` },
      grid: { left: 60, right: 20, top: 20, bottom: 50 },
      xAxis: numeric ? { type: "value", name: parameter.label, nameLocation: "middle", nameGap: 30, scale: true } : { type: "category", data: categories, name: parameter.label, nameLocation: "middle", nameGap: 30 },
      yAxis: { type: "value", name: metric, scale: true },
      series: [{
        type: "scatter",
        name: metric,
        symbolSize: 9,
        data: points.map((p) => ({ name: runLabel(p.run), value: [numeric ? asNumber(p.raw) : String(p.raw), p.y], itemStyle: { color: runColor(p.run) } })),
      }],
    };
  }, [runs, parameter, metric, target]);
  const shown = runs.filter((run) => parameter.values.get(run.run_id) != null && target.has(run.run_id)).length;
  return (
    <figure class="scatter" data-scatter={`${parameter.label}|${metric}`} data-points={shown}>
      <figcaption class="small muted">{metric} (last value) against {parameter.label}: {shown} runs</figcaption>
      <Chart option={option} label={`scatter of ${metric} against ${parameter.label}`} height={300} />
    </figure>
  );
}

function Importance({ ranked, metric, onPick }: { ranked: ReturnType<typeof correlations>; metric: string; onPick: (label: string) => void }) {
  return (
    <div id="importance">
      <h3>Parameter importance <span class="muted small">correlation with {metric}</span></h3>
      <p class="muted small">Pearson's correlation of each numeric parameter with the last value of {metric}, over the runs having both. It is a correlation, not a fitted model: it misses non-linear effects and interactions, and does not show cause.</p>
      {!ranked.length ? <p class="muted small">No numeric parameter varies over runs with {metric}.</p> : (
        <ol class="importance" aria-label={`correlation of each parameter with ${metric}, strongest first`}>
          {ranked.map((item) => (
            <li key={item.label} data-parameter={item.label} data-r={item.r.toFixed(4)}>
              <button type="button" class="link" onClick={() => onPick(item.label)} title={`plot ${metric} against ${item.label}`}>{item.label}</button>
              <span class="bar-track" aria-hidden="true">
                <span class={`bar ${item.r < 0 ? "negative" : "positive"}`} style={{ width: `${Math.abs(item.r) * 100}%` }} />
              </span>
              <span class="num">r = {item.r >= 0 ? "+" : "−"}{Math.abs(item.r).toFixed(2)}</span>
              <span class="muted small">n = {item.n}</span>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
