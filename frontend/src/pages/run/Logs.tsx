// The run's logs: pick a file under logs/, tail it every 2 s while the run is live.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, type Run } from "../../api";
import { ErrorNote, Loading } from "../../components/common";
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
    if (element && live) element.scrollTop = element.scrollHeight;
  }, [text, live]);
  return (
    <>
      {error && <ErrorNote error={error} />}
      <pre class="log" ref={box} tabIndex={0} aria-label={`log ${name}`}>{text}</pre>
    </>
  );
}
