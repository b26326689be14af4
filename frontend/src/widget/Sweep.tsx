// A HyperDrive parent's sweep: every child's curve of the primary metric, and parallel
// coordinates of the children's hyper-parameters (their properties) coloured by that metric.
import { useMemo } from "preact/hooks";
import type { Run, Series } from "../api";
import { DEFAULT_SETTINGS } from "../charts/LineControls";
import { Parallel } from "../charts/Parallel";
import { SeriesChart } from "../charts/SeriesChart";
import { runLabel } from "../lib/format";
import type { LastValues } from "../lib/runFilter";
import { useTrait, type WidgetModel } from "./model";

/** Properties that are hyper-parameters (not bookkeeping of the SDK or of other tools). */
export function isHyperparameter(key: string): boolean {
  return !key.startsWith("_") && !key.startsWith("azureml.") && !key.startsWith("mlflow.");
}

interface Props {
  model: WidgetModel;
  maxPoints: number;
  /** Children picked in the child runs table (none: all of them). */
  selected: Set<string>;
}

export function SweepSection({ model, maxPoints, selected }: Props) {
  const sweep = useTrait<boolean>(model, "hyperdrive");
  const children = useTrait<Run[]>(model, "children") ?? [];
  const last = useTrait<LastValues>(model, "children_last") ?? {};
  const curves = useTrait<Series[]>(model, "children_series") ?? [];
  const metric = useTrait<string>(model, "curve_metric");
  const byId = useMemo(() => new Map(children.map((c) => [c.run_id, c])), [children]);
  const lines = useMemo(() => curves
    .filter((s) => byId.has(s.run_id) && (!selected.size || selected.has(s.run_id)))
    .map((s) => {
      const child = byId.get(s.run_id)!;
      return { label: runLabel(child), series: s, origin: child.start_time ?? child.created_time };
    }), [curves, byId, selected]);
  const metrics = useMemo(() => (metric ? [metric] : undefined), [metric]);
  if (!sweep || !children.length) return null;
  return (
    <section class="card" id="sweep">
      <h2>Sweep <span class="muted small">{children.length} child runs{metric ? ` · ${metric}` : ""}{selected.size ? ` · ${selected.size} selected` : ""}</span></h2>
      <div class="chart-grid">
        {lines.length > 0 && <SeriesChart name={metric} lines={lines} settings={DEFAULT_SETTINGS} maxPoints={maxPoints} />}
        <figure class="card chart-card" data-chart-card="parallel coordinates">
          <figcaption><span class="metric-name">hyper-parameters</span><span class="muted small">coloured by {metric || "the last metric"}</span></figcaption>
          <Parallel runs={children} last={last} keepProperty={isHyperparameter} metrics={metrics} colorBy={metric || undefined} />
        </figure>
      </div>
    </section>
  );
}
