// The run page: header, tags and properties, then tabs for metrics, children, logs, files, ...
import { api } from "../api";
import { ErrorNote, KeyValues, Loading, StatusBadge } from "../components/common";
import { isLive, runLabel } from "../lib/format";
import { useLoad } from "../lib/hooks";
import { href } from "../router";
import { ChildrenTab, EnvironmentTab, ErrorDetails, timesLine } from "./run/Details";
import { FilesTab } from "./run/Files";
import { LogsTab } from "./run/Logs";
import { MetricsTab } from "./run/Metrics";
import { SWEEP_RUN_TYPE, SweepTab } from "./run/Sweep";
import { RunTitle } from "./run/Describe";
import { TagEditor } from "./run/Tags";
import { NOTE_TAG, RunNotes } from "./run/Notes";

const SWEEP_TAB = ["sweep", "Sweep"] as const;

const TABS = [
  ["metrics", "Metrics"],
  ["children", "Child runs"],
  ["logs", "Logs"],
  ["files", "Files"],
  ["environment", "Environment"],
] as const;

const GIT_KEYS = ["azureml.git.commit", "mlflow.source.git.commit", "git.commit"];

export function RunPage({ experimentId, runId, tab }: { experimentId: string; runId: string; tab: string }) {
  const loaded = useLoad(() => api.run(runId), [runId], (run) => run !== undefined && isLive(run.status));
  const run = loaded.data;
  if (loaded.error && !run) return <div class="page"><ErrorNote error={loaded.error} /></div>;
  if (!run) return <div class="page"><Loading what="run" /></div>;
  const commit = GIT_KEYS.map((key) => run.properties[key]).find(Boolean);
  const tabs = run.run_type.toLowerCase() === SWEEP_RUN_TYPE ? [SWEEP_TAB, ...TABS] : TABS;
  return (
    <div class="page">
      <nav class="crumbs" aria-label="breadcrumb">
        <a href={href.experiments()}>Experiments</a> / <a href={href.runs(experimentId)}>{run.experiment_name}</a>
        {run.parent_run_id && <> / <a href={href.run(experimentId, run.parent_run_id)}>parent run</a></>}
        {" "}/ <span>{runLabel(run)}</span>
      </nav>
      <header class="run-header">
        <h1>{run.display_name || `Run ${run.number}`} <StatusBadge status={run.status} /></h1>
        <p class="muted small">
          #{run.number} · <code>{run.run_id}</code> · {run.run_type} · target {run.target}
          {run.submitted_by && <> · submitted by {run.submitted_by}</>}
          {commit && <> · git <code>{commit.slice(0, 10)}</code></>}
          {run.snapshot_id && <> · <a href={api.snapshotUrl(run.snapshot_id)} download={`${run.run_id}-snapshot.zip`}>snapshot (zip)</a></>}
        </p>
        <p class="muted small">{timesLine(run)}</p>
        <RunTitle run={run} onChange={loaded.reload} />
        {!run.tags[NOTE_TAG] && <RunNotes run={run} onChange={loaded.reload} />}
      </header>
      <ErrorDetails run={run} />
      <div class="two-col">
        <section class="card"><h2>Tags</h2><TagEditor run={run} onChange={loaded.reload} /></section>
        <section class="card" id="properties"><h2>Properties</h2><KeyValues values={run.properties} empty="No properties." /></section>
      </div>
      {run.tags[NOTE_TAG] && <RunNotes run={run} onChange={loaded.reload} />}
      <nav class="tabs" role="tablist" aria-label="run sections">
        {tabs.map(([key, label]) => (
          <a key={key} role="tab" aria-selected={tab === key} class={tab === key ? "active" : ""} href={href.run(experimentId, runId, key)}>{label}</a>
        ))}
      </nav>
      <div role="tabpanel">
        {tab === "sweep" && <SweepTab run={run} />}
        {tab === "metrics" && <MetricsTab run={run} />}
        {tab === "children" && <ChildrenTab run={run} />}
        {tab === "logs" && <LogsTab run={run} />}
        {tab === "files" && <FilesTab run={run} />}
        {tab === "environment" && <EnvironmentTab run={run} />}
      </div>
    </div>
  );
}
