// A preview of one run file: text, JSON pretty-printed, CSV as a table, images, Markdown.
// At most PREVIEW_BYTES are read; a bigger file says so and offers its download.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, type FileInfo } from "../../api";
import { ErrorNote, Loading } from "../../components/common";
import { formatBytes } from "../../lib/format";
import { Markdown } from "../../lib/markdown";

/** The most bytes read for a preview (a text file shows its beginning). */
export const PREVIEW_BYTES = 1024 * 1024;
/** The biggest image shown inline. */
export const PREVIEW_IMAGE_BYTES = 20 * 1024 * 1024;
/** The most CSV rows shown. */
export const PREVIEW_ROWS = 1000;

const IMAGE = /\.(png|jpe?g|gif|webp|bmp|svg|avif)$/i;
const JSON_FILE = /\.(json|ipynb)$/i;
const CSV = /\.(csv|tsv)$/i;
const MARKDOWN = /\.(md|markdown)$/i;

export type PreviewKind = "image" | "json" | "csv" | "markdown" | "text";

export function previewKind(name: string): PreviewKind {
  if (IMAGE.test(name)) return "image";
  if (JSON_FILE.test(name)) return "json";
  if (CSV.test(name)) return "csv";
  if (MARKDOWN.test(name)) return "markdown";
  return "text";
}

async function readStart(url: string, size: number): Promise<{ text: string; binary: boolean }> {
  // Only a file longer than the preview is asked for a range (an empty file has no bytes 0-…).
  const range: Record<string, string> = size > PREVIEW_BYTES ? { Range: `bytes=0-${PREVIEW_BYTES - 1}` } : {};
  const response = await fetch(url, { headers: range });
  if (!response.ok && response.status !== 206) throw new Error(`${response.status} ${response.statusText}`);
  const bytes = new Uint8Array(await response.arrayBuffer()).subarray(0, PREVIEW_BYTES);
  const binary = bytes.subarray(0, 8000).includes(0);
  return { text: new TextDecoder().decode(bytes), binary };
}

/** Rows of CSV (or TSV) text: quoted fields with doubled quotes and line breaks inside. */
export function parseCsv(text: string, separator = ","): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === "") quoted = true;
    else if (c === separator) {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += c;
  }
  if (field !== "" || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

function TooLarge({ file, url, what }: { file: FileInfo; url: string; what: string }) {
  return (
    <p class="preview-note" role="status">
      The file is too large to preview ({formatBytes(file.size)}; {what}).{" "}
      <a href={url} download={file.name.split("/").pop()}>Download it</a>
    </p>
  );
}

export function FilePreview({ runId, file, onClose }: { runId: string; file: FileInfo; onClose: () => void }) {
  const url = api.fileUrl(runId, file.name);
  const kind = previewKind(file.name);
  const structured = kind === "json" || kind === "csv" || kind === "markdown";
  const tooLarge = kind === "image" ? file.size > PREVIEW_IMAGE_BYTES : structured && file.size > PREVIEW_BYTES;
  const [content, setContent] = useState<{ text: string; binary: boolean } | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const section = useRef<HTMLElement>(null);
  useEffect(() => section.current?.scrollIntoView?.({ block: "nearest" }), []);
  useEffect(() => {
    setContent(null);
    setError(null);
    if (kind === "image" || tooLarge) return;
    if (file.size === 0) {
      setContent({ text: "", binary: false });
      return;
    }
    readStart(url, file.size).then(setContent, setError);
  }, [url]);
  const limit = kind === "image" ? PREVIEW_IMAGE_BYTES : PREVIEW_BYTES;
  return (
    <section ref={section} class="card file-preview" aria-label={`preview of ${file.name}`} data-preview={file.name} data-kind={kind}>
      <header class="preview-head">
        <h3>{file.name} <span class="muted small">{formatBytes(file.size)} · {kind}</span></h3>
        <span>
          <a href={url} download={file.name.split("/").pop()}>download</a>{" "}
          <button type="button" onClick={onClose} aria-label="close the preview">close</button>
        </span>
      </header>
      {tooLarge ? <TooLarge file={file} url={url} what={`previews show files up to ${formatBytes(limit)}`} /> : kind === "image" ? (
        <img class="preview-image" src={url} alt={file.name} />
      ) : error ? <ErrorNote error={error} /> : !content ? <Loading what="file" /> : file.size === 0 ? (
        <p class="preview-note" role="status">The file is empty.</p>
      ) : content.binary ? (
        <p class="preview-note" role="status">This looks like a binary file: no preview. <a href={url} download={file.name.split("/").pop()}>Download it</a></p>
      ) : (
        <PreviewBody kind={kind} text={content.text} file={file} url={url} />
      )}
    </section>
  );
}

function PreviewBody({ kind, text, file, url }: { kind: PreviewKind; text: string; file: FileInfo; url: string }) {
  if (kind === "json") {
    try {
      return <pre class="preview-text" data-json="pretty">{JSON.stringify(JSON.parse(text), null, 2)}</pre>;
    } catch (reason) {
      return <><p class="preview-note" role="status">Not valid JSON ({(reason as Error).message}); shown as text.</p><pre class="preview-text">{text}</pre></>;
    }
  }
  if (kind === "csv") {
    const rows = parseCsv(text, file.name.toLowerCase().endsWith(".tsv") ? "\t" : ",");
    const [head = [], ...body] = rows;
    return (
      <>
        {body.length > PREVIEW_ROWS && <p class="preview-note" role="status">Showing the first {PREVIEW_ROWS.toLocaleString()} of {body.length.toLocaleString()} rows. <a href={url} download={file.name.split("/").pop()}>Download</a> for all.</p>}
        <div class="table-scroll preview-table">
          <table class="data compact">
            <thead><tr>{head.map((cell, i) => <th key={i} scope="col">{cell}</th>)}</tr></thead>
            <tbody>{body.slice(0, PREVIEW_ROWS).map((row, r) => <tr key={r}>{row.map((cell, c) => <td key={c}>{cell}</td>)}</tr>)}</tbody>
          </table>
        </div>
      </>
    );
  }
  if (kind === "markdown") return <Markdown source={text} />;
  const cut = file.size > PREVIEW_BYTES;
  return (
    <>
      {cut && <p class="preview-note" role="status">Showing the first {formatBytes(PREVIEW_BYTES)} of {formatBytes(file.size)}. <a href={url} download={file.name.split("/").pop()}>Download</a> for the whole file.</p>}
      <pre class="preview-text">{text}</pre>
    </>
  );
}
