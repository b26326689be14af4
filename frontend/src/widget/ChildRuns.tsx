// The child runs table of the widget: the studio's runs table, with each child's primary metric.
import { useMemo, useState } from "preact/hooks";
import type { Run } from "../api";
import { RunsTable } from "../components/RunsTable";
import { type LastValues, type SortKey, sortRuns } from "../lib/runFilter";
import { useTrait, type WidgetModel } from "./model";
import type { Links } from "./RunDetailsView";

/** The metric columns: the primary metric when one is named, else the first few the children have. */
export function metricColumns(primary: string, last: LastValues): string[] {
  if (primary) return [primary];
  const names = new Set<string>();
  for (const values of Object.values(last)) for (const name of Object.keys(values)) names.add(name);
  return [...names].sort().slice(0, 3);
}

interface Props {
  model: WidgetModel;
  links: Links;
  selected: Set<string>;
  onSelect: (runId: string, on: boolean) => void;
}

export function ChildRunsSection({ model, links, selected, onSelect }: Props) {
  const children = useTrait<Run[]>(model, "children") ?? [];
  const last = useTrait<LastValues>(model, "children_last") ?? {};
  const primary = useTrait<{ name?: string; goal?: string }>(model, "primary_metric") ?? {};
  const sweep = useTrait<boolean>(model, "hyperdrive");
  const [sort, setSort] = useState<SortKey>({ column: "number", desc: false });
  const metrics = metricColumns(primary.name ?? "", last);
  const rows = useMemo(
    () => sortRuns(children, sort, last).map((run) => ({ run, depth: 0, children: 0, expanded: false })),
    [children, sort, last],
  );
  if (!children.length) return null;
  const done = children.filter((c) => c.status === "Completed").length;
  return (
    <section class="card" id="child-runs">
      <h2>Child runs <span class="muted small">{children.length} ({done} completed){primary.name ? ` · primary metric ${primary.name}${primary.goal ? ` (${primary.goal})` : ""}` : ""}</span></h2>
      <RunsTable
        rows={rows}
        columns={{ duration: true, start: true, tags: false, properties: sweep, metrics }}
        last={last} sort={sort} onSort={setSort}
        selected={selected} onSelect={onSelect} onToggle={() => undefined}
        runHref={links.run} linkTarget="_blank"
      />
    </section>
  );
}
