// The run's logs: pick a file under logs/, tail it every 2 s while the run is live.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, type Run } from "../../api";
import { ErrorNote, Loading } from "../../components/common";
import { parseAnsi } from "../../lib/ansi";
import { isLive } from "../../lib/format";
import { POLL_MS, useInterval, useLoad } from "../../lib/hooks";

const MAX_CHARS = 2_000_000;

export function LogsTab({ run }: { run: Run }) {
  const live = isLive(run.status);
  const files = useLoad(() => api.files(run.run_id, "logs/"), [run.run_id], () => live);
  const names = (files.data ?? []).map((f) => f.name);
  const [chosen, setChosen] = useState<string | null>(null);
  const name = chosen ?? names.find((n) => n.endsWith("std_log.txt")) ?? names[0] ?? null;
  if (files.error) return <ErrorNote error={files.error} />;
  if (!files.data) return <Loading what="logs" />;
  if (!names.length) return <p class="muted">No logs for this run{live ? " yet" : ""}.</p>;
  return (
    <div>
      <div class="toolbar">
        <label>log{" "}
          <select value={name ?? ""} onChange={(e) => setChosen(e.currentTarget.value)}>
            {names.map((n) => <option key={n} value={n}>{n}</option>)}
          </select>
        </label>
        {name && <a href={api.fileUrl(run.run_id, name)} download={name.split("/").pop()}>download</a>}
        {live && <span class="badge status-Running">live tail</span>}
      </div>
      {name && <LogView key={name} runId={run.run_id} name={name} live={live} />}
    </div>
  );
}

function LogView({ runId, name, live }: { runId: string; name: string; live: boolean }) {
  const [text, setText] = useState("");
  const [error, setError] = useState<Error | null>(null);
  const offset = useRef(0);
  const box = useRef<HTMLPreElement>(null);
  const busy = useRef(false);
  const [search, setSearch] = useState("");
  const [follow, setFollow] = useState(live);
  const more = () => {
    if (busy.current) return;
    busy.current = true;
    api.fileTail(runId, name, offset.current)
      .then(({ text: added, bytes }) => {
        offset.current += bytes;
        if (added) setText((old) => (old + added).slice(-MAX_CHARS));
      })
      .catch(setError)
      .finally(() => {
        busy.current = false;
      });
  };
  useEffect(more, [runId, name]);
  useInterval(more, live ? POLL_MS : null);
  useEffect(() => {
    const element = box.current;
    if (element && follow) element.scrollTop = element.scrollHeight;
  }, [text, follow]);
  const shown = useMemo(() => {
    const wanted = search.trim().toLowerCase();
    if (!wanted) return text;
    return text.replace(/\r\n/g, "\n").split("\n").filter((line) => line.toLowerCase().includes(wanted)).join("\n");
  }, [text, search]);
  const segments = useMemo(() => parseAnsi(shown), [shown]);
  return (
    <>
      {error && <ErrorNote error={error} />}
      <div class="toolbar">
        <input type="search" value={search} placeholder="search the log" aria-label="search the log" onInput={(e) => setSearch(e.currentTarget.value)} />
        <label><input type="checkbox" checked={follow} onChange={(e) => setFollow(e.currentTarget.checked)} /> follow</label>
        {text.length >= MAX_CHARS && <span class="muted small">showing the last {MAX_CHARS.toLocaleString()} characters (download for all)</span>}
      </div>
      <pre class="log" ref={box} tabIndex={0} aria-label={`log ${name}`}>
        {segments.map((segment, i) => (
          segment.classes || segment.color || segment.background
            ? <span key={i} class={segment.classes || undefined} style={{ color: segment.color, background: segment.background }}>{segment.text}</span>
            : segment.text
        ))}
      </pre>
    </>
  );
}
