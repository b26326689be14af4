// The experiments page: names, run counts, last activity and tags; archived toggle.
import { useMemo, useState } from "preact/hooks";
import { api, type Experiment } from "../api";
import { Chips, ErrorNote, Loading } from "../components/common";
import { formatTime } from "../lib/format";
import { useLoad } from "../lib/hooks";
import { href } from "../router";

type SortKey = "name" | "run_count" | "last_activity_time" | "created_time";

export function ExperimentsPage() {
  const [viewType, setViewType] = useState("ActiveOnly");
  const [text, setText] = useState("");
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: "last_activity_time", desc: true });
  const loaded = useLoad(() => api.experiments(viewType), [viewType], () => true);

  const rows = useMemo(() => {
    const needle = text.trim().toLowerCase();
    const found = (loaded.data ?? []).filter(
      (e) => !needle || e.name.toLowerCase().includes(needle) || JSON.stringify(e.tags).toLowerCase().includes(needle),
    );
    const value = (e: Experiment) => (sort.key === "name" ? e.name.toLowerCase() : (e[sort.key] ?? 0));
    return found.sort((a, b) => {
      const [x, y] = [value(a), value(b)];
      const order = x < y ? -1 : x > y ? 1 : 0;
      return sort.desc ? -order : order;
    });
  }, [loaded.data, text, sort]);

  const header = (key: SortKey, label: string) => (
    <th aria-sort={sort.key === key ? (sort.desc ? "descending" : "ascending") : "none"}>
      <button class="sort" onClick={() => setSort({ key, desc: sort.key === key ? !sort.desc : key !== "name" })}>
        {label} {sort.key === key ? (sort.desc ? "▼" : "▲") : ""}
      </button>
    </th>
  );

  return (
    <div class="page">
      <h1>Experiments</h1>
      <div class="toolbar">
        <input type="search" placeholder="Filter by name or tag" aria-label="filter experiments" value={text} onInput={(e) => setText(e.currentTarget.value)} />
        <label>
          <input type="checkbox" checked={viewType === "All"} onChange={(e) => setViewType(e.currentTarget.checked ? "All" : "ActiveOnly")} /> show archived
        </label>
      </div>
      {loaded.error && <ErrorNote error={loaded.error} />}
      {loaded.loading && !loaded.data ? (
        <Loading what="experiments" />
      ) : (
        <table class="data" id="experiments">
          <thead>
            <tr>
              {header("name", "Name")}
              {header("run_count", "Runs")}
              {header("last_activity_time", "Last activity")}
              {header("created_time", "Created")}
              <th>Tags</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((e) => (
              <tr key={e.experiment_id} data-experiment={e.name} class={e.archived_time ? "archived" : ""}>
                <td>
                  <a href={href.runs(e.experiment_id)}>{e.name}</a>
                  {e.archived_time ? <span class="badge muted-badge">archived</span> : null}
                </td>
                <td class="num">{e.run_count ?? ""}</td>
                <td>{formatTime(e.last_activity_time)}</td>
                <td>{formatTime(e.created_time)}</td>
                <td><Chips values={e.tags} /></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {loaded.data && !rows.length && <p class="muted">No experiments yet: log a run with the SDK and it appears here.</p>}
    </div>
  );
}
