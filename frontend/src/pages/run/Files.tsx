// The run's files: a folder browser with sizes, download links and previews.
import { useMemo, useState } from "preact/hooks";
import { api, type FileInfo, type Run } from "../../api";
import { ErrorNote, Loading } from "../../components/common";
import { formatBytes, formatTime, isLive } from "../../lib/format";
import { useLoad } from "../../lib/hooks";
import { FilePreview } from "./Preview";

export function FilesTab({ run }: { run: Run }) {
  const files = useLoad(() => api.files(run.run_id), [run.run_id], () => isLive(run.status));
  const [folder, setFolder] = useState("");
  const [previewed, setPreviewed] = useState<string | null>(null);
  const entries = useMemo(() => listFolder(files.data ?? [], folder), [files.data, folder]);
  if (files.error) return <ErrorNote error={files.error} />;
  if (!files.data) return <Loading what="files" />;
  const parts = folder.split("/").filter(Boolean);
  const shown = files.data.find((file) => file.name === previewed);
  return (
    <div id="files">
      <nav class="crumbs" aria-label="folder">
        <button class="link" onClick={() => setFolder("")}>files</button>
        {parts.map((part, i) => (
          <span key={i}> / <button class="link" onClick={() => setFolder(parts.slice(0, i + 1).join("/") + "/")}>{part}</button></span>
        ))}
      </nav>
      {!files.data.length && <p class="muted">No files.</p>}
      <table class="data">
        <thead><tr><th>Name</th><th>Size</th><th>Stored</th><th><span class="sr-only">preview</span></th></tr></thead>
        <tbody>
          {entries.folders.map((name) => (
            <tr key={name}><td><button class="link" onClick={() => setFolder(folder + name + "/")}>{name}/</button></td><td /><td /><td /></tr>
          ))}
          {entries.files.map((file) => (
            <tr key={file.name} data-file={file.name}>
              <td><a href={api.fileUrl(run.run_id, file.name)} download={file.name.split("/").pop()}>{file.name.slice(folder.length)}</a></td>
              <td class="num">{formatBytes(file.size)}</td>
              <td>{formatTime(file.created_time)}</td>
              <td>
                <button type="button" class="link" aria-pressed={previewed === file.name} aria-label={`preview ${file.name}`} onClick={() => setPreviewed(previewed === file.name ? null : file.name)}>preview</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {shown && <FilePreview key={shown.name} runId={run.run_id} file={shown} onClose={() => setPreviewed(null)} />}
    </div>
  );
}

export function listFolder(files: FileInfo[], folder: string): { folders: string[]; files: FileInfo[] } {
  const folders = new Set<string>();
  const here: FileInfo[] = [];
  for (const file of files) {
    if (!file.name.startsWith(folder)) continue;
    const rest = file.name.slice(folder.length);
    const slash = rest.indexOf("/");
    if (slash >= 0) folders.add(rest.slice(0, slash));
    else here.push(file);
  }
  return { folders: [...folders].sort(), files: here.sort((a, b) => a.name.localeCompare(b.name)) };
}
