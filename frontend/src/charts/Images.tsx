// Images logged with run.log_image: a gallery of the stored files (or their names).

/** The file name inside the run of an image reference (aml://artifactId/.../dcid.<run>/<file>). */
export function imageFile(reference: unknown, runId: string): string | null {
  if (typeof reference !== "string") return null;
  const marker = `dcid.${runId}/`;
  const at = reference.indexOf(marker);
  if (at >= 0) return reference.slice(at + marker.length);
  return reference.includes("://") ? null : reference;
}

interface Props {
  name: string;
  value: unknown;
  runId: string;
  /** Where a file of the run is served; without it the files are listed by name. */
  fileUrl?: (runId: string, file: string) => string;
}

export function Images({ name, value, runId, fileUrl }: Props) {
  const references = Array.isArray(value) ? value : [value];
  const files = references.map((r) => imageFile(r, runId)).filter((f): f is string => f !== null);
  return (
    <figure class="card chart-card" data-metric={name}>
      <figcaption>
        <span class="metric-name">{name}</span>
        <span class="muted small">{files.length} image{files.length === 1 ? "" : "s"}</span>
      </figcaption>
      {fileUrl ? (
        <div class="gallery">
          {files.map((file) => (
            <a key={file} href={fileUrl(runId, file)} target="_blank" rel="noreferrer">
              <img src={fileUrl(runId, file)} alt={`${name}: ${file}`} loading="lazy" />
            </a>
          ))}
        </div>
      ) : (
        <ul class="small">{files.map((file) => <li key={file}><code>{file}</code></li>)}</ul>
      )}
    </figure>
  );
}
