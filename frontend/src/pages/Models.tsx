// The model registry: registered models (a row per name, its latest version) and a model's
// versions with tags, properties, files and the run that produced each.
import { useState } from "preact/hooks";
import { api, type ModelVersion, modelsApi, type Run } from "../api";
import { Chips, ErrorNote, KeyValues, Loading } from "../components/common";
import { formatTime, runLabel } from "../lib/format";
import { useLoad } from "../lib/hooks";
import { href } from "../router";

/** The runs that produced some model versions, by id (one request; unknown ids left out). */
async function producers(versions: ModelVersion[]): Promise<Map<string, Run>> {
  const ids = [...new Set(versions.flatMap((v) => (v.run_id ? [v.run_id] : [])))];
  if (!ids.length) return new Map();
  const runs = await api.runsById(ids);
  return new Map(runs.map((run) => [run.run_id, run]));
}

async function loadModels(name?: string) {
  const versions = await modelsApi.list(name);
  return { versions, runs: await producers(versions) };
}

function RunLink({ runId, runs }: { runId: string | null; runs: Map<string, Run> }) {
  if (!runId) return <span class="muted">uploaded</span>;
  const run = runs.get(runId);
  if (!run) return <span class="muted" title="this run no longer exists"><code>{runId}</code></span>;
  return (
    <a href={href.run(run.experiment_id, run.run_id)} data-run-link={run.run_id}>
      {run.experiment_name} / {runLabel(run)}
    </a>
  );
}

export function ModelsPage() {
  const loaded = useLoad(() => loadModels(), []);
  const [search, setSearch] = useState("");
  if (loaded.error) return <div class="page"><ErrorNote error={loaded.error} /></div>;
  if (!loaded.data) return <div class="page"><Loading what="models" /></div>;
  const { versions, runs } = loaded.data;
  const byName = new Map<string, ModelVersion[]>();
  for (const version of versions) byName.set(version.name, [...(byName.get(version.name) ?? []), version]);
  const wanted = search.trim().toLowerCase();
  const names = [...byName.keys()].sort().filter((name) => name.toLowerCase().includes(wanted));
  return (
    <div class="page">
      <h1>Models</h1>
      <div class="toolbar">
        <input type="search" value={search} placeholder="search models" aria-label="search models" onInput={(e) => setSearch(e.currentTarget.value)} />
        <span class="muted small">{byName.size} models · {versions.length} versions</span>
      </div>
      {!versions.length ? <p class="muted">No registered models. Register one with <code>run.register_model(...)</code> or <code>Model.register(...)</code>.</p> : (
        <div class="table-scroll">
          <table class="data" id="models">
            <caption class="sr-only">Registered models, with their latest version</caption>
            <thead><tr><th scope="col">Name</th><th scope="col">Versions</th><th scope="col">Latest</th><th scope="col">Framework</th><th scope="col">Tags</th><th scope="col">Registered</th><th scope="col">From run</th></tr></thead>
            <tbody>
              {names.map((name) => {
                const all = byName.get(name)!;
                const latest = all.reduce((a, b) => (b.version > a.version ? b : a));
                return (
                  <tr key={name} data-model={name}>
                    <th scope="row"><a href={href.model(name)}>{name}</a></th>
                    <td class="num">{all.length}</td>
                    <td class="num">v{latest.version}</td>
                    <td>{latest.framework ?? ""}{latest.framework_version ? ` ${latest.framework_version}` : ""}</td>
                    <td><Chips values={latest.tags} /></td>
                    <td>{formatTime(latest.created_time)}</td>
                    <td><RunLink runId={latest.run_id} runs={runs} /></td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

export function ModelPage({ name, version }: { name: string; version: number | null }) {
  const loaded = useLoad(() => loadModels(name), [name]);
  if (loaded.error) return <div class="page"><ErrorNote error={loaded.error} /></div>;
  if (!loaded.data) return <div class="page"><Loading what="model" /></div>;
  const { versions, runs } = loaded.data;
  const sorted = [...versions].sort((a, b) => b.version - a.version);
  const chosen = sorted.find((v) => v.version === version) ?? sorted[0];
  return (
    <div class="page">
      <nav class="crumbs" aria-label="breadcrumb"><a href={href.models()}>Models</a> / <span>{name}</span></nav>
      <h1>{name}</h1>
      {!chosen ? <p class="muted">No model named “{name}” is registered.</p> : (
        <>
          <section class="card">
            <h2>Versions</h2>
            <div class="table-scroll">
              <table class="data" id="model-versions">
                <caption class="sr-only">Versions of {name}, newest first</caption>
                <thead><tr><th scope="col">Version</th><th scope="col">Registered</th><th scope="col">Framework</th><th scope="col">Tags</th><th scope="col">From run</th><th scope="col">Description</th></tr></thead>
                <tbody>
                  {sorted.map((v) => (
                    <tr key={v.version} data-version={v.version} class={v === chosen ? "selected" : ""}>
                      <th scope="row"><a href={href.model(name, v.version)} aria-current={v === chosen ? "true" : undefined}>v{v.version}</a></th>
                      <td>{formatTime(v.created_time)}</td>
                      <td>{v.framework ?? ""}{v.framework_version ? ` ${v.framework_version}` : ""}</td>
                      <td><Chips values={v.tags} /></td>
                      <td><RunLink runId={v.run_id} runs={runs} /></td>
                      <td>{v.description ?? ""}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
          <section class="card" id="model-version" data-version={chosen.version}>
            <h2>Version {chosen.version}</h2>
            <p class="small">Registered {formatTime(chosen.created_time)} · from run <RunLink runId={chosen.run_id} runs={runs} /></p>
            {chosen.description && <p>{chosen.description}</p>}
            <div class="two-col">
              <div><h3>Tags</h3><KeyValues values={chosen.tags} empty="No tags." /></div>
              <div id="model-properties"><h3>Properties</h3><KeyValues values={chosen.properties} empty="No properties." /></div>
            </div>
            <h3>Files</h3>
            {!chosen.files.length ? <p class="muted small">No files.</p> : (
              <ul class="model-files">
                {chosen.files.map((file) => (
                  <li key={file}><a href={modelsApi.fileUrl(name, chosen.version, file)} download={file.split("/").pop()}>{file}</a></li>
                ))}
              </ul>
            )}
          </section>
        </>
      )}
    </div>
  );
}
