// Charts of an experiment without ticking runs: the runs the table shows (up to a limit),
// overlaid, one chart per line metric in collapsible sections by name prefix (``train/``,
// ``val/``), with a search over the charts' names; then the parameters-and-metrics analysis.
import { useState } from "preact/hooks";
import { api, type MetricInfo, type Run } from "../api";
import { DEFAULT_SETTINGS, LINE_KINDS, LineControls } from "../charts/LineControls";
import type { LineSettings } from "../charts/lineOption";
import { ErrorNote, Loading } from "../components/common";
import { useLoad, useStored, useWidth } from "../lib/hooks";
import { comparePoints, OverlaidCharts } from "./Compare";
import { ExperimentAnalysis } from "./ExperimentAnalysis";

/** The section of a metric: the part of its name before the first "/" ("" without one). */
export function sectionOf(name: string): string {
  const slash = name.indexOf("/");
  return slash > 0 ? name.slice(0, slash) : "";
}

/** Metric infos by section, the unprefixed section first, then by prefix. */
export function sections(infos: MetricInfo[]): [string, MetricInfo[]][] {
  const found = new Map<string, MetricInfo[]>();
  for (const info of infos) {
    const section = sectionOf(info.name);
    found.set(section, [...(found.get(section) ?? []), info]);
  }
  return [...found.entries()].sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b)));
}

/** Most runs drawn in the experiment's charts (the first ones of the table's order). */
export const CHART_RUNS = 300;

export function ExperimentCharts({ runs }: { runs: Run[] }) {
  const shown = runs.slice(0, CHART_RUNS);
  const key = shown.map((run) => run.run_id).join(",");
  const infos = useLoad(() => (shown.length ? api.metricInfosOf(shown.map((run) => run.run_id)) : Promise.resolve([])), [key]);
  const [settings, setSettings] = useStored<LineSettings>("runhistory.lines", DEFAULT_SETTINGS);
  const [search, setSearch] = useState("");
  const [collapsed, setCollapsed] = useStored<string[]>("runhistory.collapsedSections", []);
  const [ref, width] = useWidth<HTMLElement>();
  const wanted = search.trim().toLowerCase();
  const lines = (infos.data ?? []).filter((info) => LINE_KINDS.has(info.kind) && info.count > 1 && info.name.toLowerCase().includes(wanted));
  return (
    <section class="card" id="experiment-charts" ref={ref}>
      <h2>Charts <span class="muted small">{runs.length > CHART_RUNS ? `the first ${CHART_RUNS} of ${runs.length} runs shown in the table` : `${shown.length} runs shown in the table`}</span></h2>
      <div class="toolbar">
        <input type="search" value={search} placeholder="search charts" aria-label="search charts" onInput={(e) => setSearch(e.currentTarget.value)} />
      </div>
      <LineControls settings={settings} onChange={setSettings} />
      {infos.error && <ErrorNote error={infos.error} />}
      {!infos.data ? <Loading what="charts" /> : !lines.length ? <p class="muted">No line metrics{wanted ? ` match “${search}”` : ""}.</p> : (
        sections(lines).map(([section, members]) => {
          const open = !collapsed.includes(section);
          const names = new Set(members.map((info) => info.name)).size;
          return (
            <details key={section} class="chart-section" data-section={section || "(none)"} open={open}
              onToggle={(e) => {
                const nowOpen = (e.currentTarget as HTMLDetailsElement).open;
                if (nowOpen !== open) setCollapsed(nowOpen ? collapsed.filter((s) => s !== section) : [...collapsed, section]);
              }}>
              <summary><span class="section-name">{section ? `${section}/` : "charts"}</span> <span class="muted small">{names} {names === 1 ? "chart" : "charts"}</span></summary>
              {open && <OverlaidCharts runs={shown} infos={members} settings={settings} maxPoints={comparePoints(width > 1100 ? width / 2 - 40 : width - 40, shown.length)} />}
            </details>
          );
        })
      )}
      {infos.data && <ExperimentAnalysis runs={shown} />}
    </section>
  );
}
