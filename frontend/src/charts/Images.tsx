// Images logged with run.log_image: a gallery of the stored files.
import { api } from "../api";

/** The file name inside the run of an image reference (aml://artifactId/.../dcid.<run>/<file>). */
export function imageFile(reference: unknown, runId: string): string | null {
  if (typeof reference !== "string") return null;
  const marker = `dcid.${runId}/`;
  const at = reference.indexOf(marker);
  if (at >= 0) return reference.slice(at + marker.length);
  return reference.includes("://") ? null : reference;
}

export function Images({ name, value, runId }: { name: string; value: unknown; runId: string }) {
  const references = Array.isArray(value) ? value : [value];
  const files = references.map((r) => imageFile(r, runId)).filter((f): f is string => f !== null);
  return (
    <figure class="card chart-card" data-metric={name}>
      <figcaption>
        <span class="metric-name">{name}</span>
        <span class="muted small">{files.length} image{files.length === 1 ? "" : "s"}</span>
      </figcaption>
      <div class="gallery">
        {files.map((file) => (
          <a key={file} href={api.fileUrl(runId, file)} target="_blank" rel="noreferrer">
            <img src={api.fileUrl(runId, file)} alt={`${name}: ${file}`} loading="lazy" />
          </a>
        ))}
      </div>
    </figure>
  );
}
