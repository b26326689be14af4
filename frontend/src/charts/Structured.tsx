// Charts of the structured metric kinds: confusion matrix, accuracy table, residuals, predictions.
import { useMemo, useState } from "preact/hooks";
import { type ClassCurves, type Counts, type Curve, curves, normalise } from "../lib/curves";
import { formatValue } from "../lib/format";
import { Chart } from "./Chart";
import type { Option } from "./echarts";

interface Doc<T> {
  schema_type: string;
  data: T;
}

export function ConfusionMatrix({ name, doc }: { name: string; doc: Doc<{ class_labels: string[]; matrix: number[][] }> }) {
  const [normalised, setNormalised] = useState(false);
  const { class_labels: labels, matrix } = doc.data;
  const shown = normalised ? normalise(matrix) : matrix;
  const option = useMemo<Option>(() => {
    const cells = shown.flatMap((row, actual) => row.map((value, predicted) => [predicted, actual, value]));
    const max = Math.max(0, ...shown.flat());
    return {
      grid: { left: 90, right: 24, top: 36, bottom: 64 },
      legend: { data: [name], top: 4 },
      tooltip: { formatter: (p: { value: number[] }) => `actual ${labels[p.value[1]]} · predicted ${labels[p.value[0]]}: ${formatValue(p.value[2])}` },
      xAxis: { type: "category", data: labels, name: "predicted", nameLocation: "middle", nameGap: 28 },
      yAxis: { type: "category", data: labels, name: "actual", inverse: true },
      visualMap: { min: 0, max: max || 1, calculable: false, orient: "horizontal", left: "center", bottom: 0, itemHeight: 120, show: false },
      series: [{ name, type: "heatmap", data: cells, label: { show: labels.length <= 20, formatter: (p: { value: number[] }) => formatValue(normalised ? Number(p.value[2].toFixed(3)) : p.value[2]) } }],
    };
  }, [shown, labels, name, normalised]);
  return (
    <figure class="card chart-card" data-metric={name}>
      <figcaption>
        <span class="metric-name">{name}</span>
        <label class="small">
          <input type="checkbox" checked={normalised} onChange={(e) => setNormalised(e.currentTarget.checked)} /> normalise rows
        </label>
      </figcaption>
      <Chart option={option} label={name} height={Math.min(560, 120 + labels.length * 36)} />
      <details>
        <summary class="small">values</summary>
        <table class="matrix" data-matrix={name}>
          <thead>
            <tr>
              <th>actual \ predicted</th>
              {labels.map((label) => <th key={label}>{label}</th>)}
            </tr>
          </thead>
          <tbody>
            {matrix.map((row, r) => (
              <tr key={labels[r]}>
                <th>{labels[r]}</th>
                {row.map((value, c) => <td key={c} data-cell={`${r},${c}`}>{value}</td>)}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}

interface AccuracyData {
  class_labels: string[];
  probability_tables: Counts[][];
  percentile_tables: Counts[][];
  probability_thresholds: number[];
  percentile_thresholds: number[];
}

function curveOption(title: string, all: ClassCurves[], pick: (c: ClassCurves) => Curve, axes: [string, string], diagonal: boolean): Option {
  const series: Record<string, unknown>[] = all.map((c) => ({
    name: c.label, type: "line", showSymbol: false, data: pick(c).x.map((x, i) => [x, pick(c).y[i]]),
  }));
  if (diagonal) series.push({ name: "chance", type: "line", showSymbol: false, data: [[0, 0], [1, 1]], lineStyle: { type: "dashed", opacity: 0.5 } });
  return {
    title: { text: title, left: "center", top: 0, textStyle: { fontSize: 13 } },
    grid: { left: 48, right: 16, top: 56, bottom: 40 },
    legend: { type: "scroll", top: 22, data: all.map((c) => c.label) },
    tooltip: { trigger: "axis", confine: true },
    xAxis: { type: "value", name: axes[0], nameLocation: "middle", nameGap: 24, min: 0, max: diagonal ? 1 : undefined },
    yAxis: { type: "value", name: axes[1], min: 0 },
    series,
  };
}

export function AccuracyTable({ name, doc }: { name: string; doc: Doc<AccuracyData> }) {
  const [mode, setMode] = useState<"probability" | "percentile">("probability");
  const data = doc.data;
  const all = useMemo(() => {
    const tables = mode === "probability" ? data.probability_tables : data.percentile_tables;
    return data.class_labels.map((label, c) => curves(String(label), tables[c]));
  }, [data, mode]);
  const legendName = `${name}`;
  const options = useMemo(() => [
    curveOption(`${legendName}: ROC`, all, (c) => c.roc, ["false positive rate", "true positive rate"], true),
    curveOption(`${legendName}: precision-recall`, all, (c) => c.pr, ["recall", "precision"], false),
    curveOption(`${legendName}: gain`, all, (c) => c.gain, ["share of samples", "share of positives"], true),
    curveOption(`${legendName}: lift`, all, (c) => c.lift, ["share of samples", "lift"], false),
  ], [all, legendName]);
  return (
    <figure class="card chart-card wide" data-metric={name}>
      <figcaption>
        <span class="metric-name">{name}</span>
        <span class="small">
          AUC {all.map((c) => `${c.label}: ${c.auc.toFixed(3)}`).join(" · ")}
        </span>
        <span role="radiogroup" aria-label="thresholds" class="small">
          {(["probability", "percentile"] as const).map((m) => (
            <label key={m}>
              <input type="radio" name={`${name}-mode`} checked={mode === m} onChange={() => setMode(m)} /> {m}
            </label>
          ))}
        </span>
      </figcaption>
      <div class="chart-grid-4">
        {options.map((option, i) => <Chart key={i} option={option} label={`${name} ${["ROC", "precision-recall", "gain", "lift"][i]}`} height={260} />)}
      </div>
    </figure>
  );
}

export function Residuals({ name, doc }: { name: string; doc: Doc<{ bin_edges: number[]; bin_counts: number[] }> }) {
  const option = useMemo<Option>(() => {
    const { bin_edges: edges, bin_counts: counts } = doc.data;
    return {
      grid: { left: 56, right: 24, top: 36, bottom: 40 },
      legend: { data: [name], top: 4 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: counts.map((_, i) => `${formatValue(edges[i])} – ${formatValue(edges[i + 1])}`), name: "residual" },
      yAxis: { type: "value", name: "count" },
      series: [{ name, type: "bar", data: counts, barCategoryGap: "2%" }],
    };
  }, [doc, name]);
  return (
    <figure class="card chart-card" data-metric={name}>
      <figcaption><span class="metric-name">{name}</span><span class="muted small">histogram of residuals</span></figcaption>
      <Chart option={option} label={name} />
    </figure>
  );
}

interface PredictionData {
  bin_averages: number[];
  bin_errors: number[];
  bin_counts: number[];
  bin_edges: number[];
}

export function Predictions({ name, doc }: { name: string; doc: Doc<PredictionData> }) {
  const option = useMemo<Option>(() => {
    const d = doc.data;
    const centers = d.bin_averages.map((_, i) => (d.bin_edges[i] + d.bin_edges[i + 1]) / 2);
    const bars = centers.map((x, i) => [x, d.bin_averages[i] - d.bin_errors[i], d.bin_averages[i] + d.bin_errors[i]]);
    return {
      grid: { left: 56, right: 24, top: 36, bottom: 40 },
      legend: { data: [name, "ideal"], top: 4 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "value", name: "true value", scale: true },
      yAxis: { type: "value", name: "predicted (bin average)", scale: true },
      series: [
        { name, type: "line", data: centers.map((x, i) => [x, d.bin_averages[i]]) },
        { name: "ideal", type: "line", showSymbol: false, data: [[d.bin_edges[0], d.bin_edges[0]], [d.bin_edges.at(-1), d.bin_edges.at(-1)]], lineStyle: { type: "dashed", opacity: 0.5 } },
        {
          name, type: "custom", data: bars, z: 3,
          renderItem: (_: unknown, api: { value: (i: number) => number; coord: (p: number[]) => number[]; style: () => object }) => {
            const low = api.coord([api.value(0), api.value(1)]);
            const high = api.coord([api.value(0), api.value(2)]);
            const style = { ...api.style(), lineWidth: 1.5 };
            return {
              type: "group",
              children: [
                { type: "line", shape: { x1: low[0], y1: low[1], x2: high[0], y2: high[1] }, style },
                { type: "line", shape: { x1: low[0] - 4, y1: low[1], x2: low[0] + 4, y2: low[1] }, style },
                { type: "line", shape: { x1: high[0] - 4, y1: high[1], x2: high[0] + 4, y2: high[1] }, style },
              ],
            };
          },
        },
      ],
    };
  }, [doc, name]);
  return (
    <figure class="card chart-card" data-metric={name}>
      <figcaption><span class="metric-name">{name}</span><span class="muted small">bin averages ± errors</span></figcaption>
      <Chart option={option} label={name} />
    </figure>
  );
}
