// Charts of an experiment without ticking runs: the runs the table shows (up to a limit),
// overlaid, one chart per line metric, with a search over the charts' names.
import { useState } from "preact/hooks";
import { api, type Run } from "../api";
import { DEFAULT_SETTINGS, LINE_KINDS, LineControls } from "../charts/LineControls";
import type { LineSettings } from "../charts/lineOption";
import { ErrorNote, Loading } from "../components/common";
import { useLoad, useStored, useWidth } from "../lib/hooks";
import { comparePoints, OverlaidCharts } from "./Compare";

/** Most runs drawn in the experiment's charts (the first ones of the table's order). */
export const CHART_RUNS = 300;

export function ExperimentCharts({ runs }: { runs: Run[] }) {
  const shown = runs.slice(0, CHART_RUNS);
  const key = shown.map((run) => run.run_id).join(",");
  const infos = useLoad(() => (shown.length ? api.metricInfosOf(shown.map((run) => run.run_id)) : Promise.resolve([])), [key]);
  const [settings, setSettings] = useStored<LineSettings>("runhistory.lines", DEFAULT_SETTINGS);
  const [search, setSearch] = useState("");
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
        <OverlaidCharts runs={shown} infos={lines} settings={settings} maxPoints={comparePoints(width > 1100 ? width / 2 - 40 : width - 40, shown.length)} />
      )}
    </section>
  );
}
