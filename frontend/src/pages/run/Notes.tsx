// The run's notes: Markdown kept in the ``mlflow.note.content`` tag (where MLflow clients keep
// a run's notes too), rendered without raw HTML, editable in place.
import { useState } from "preact/hooks";
import { api, type Run } from "../../api";
import { Markdown } from "../../lib/markdown";

/** The tag holding a run's notes. */
export const NOTE_TAG = "mlflow.note.content";
/** The longest note a tag value holds. */
export const NOTE_LIMIT = 5000;

export function RunNotes({ run, onChange }: { run: Run; onChange: () => void }) {
  const note = run.tags[NOTE_TAG] ?? "";
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(note);
  const [error, setError] = useState<string | null>(null);
  const start = () => {
    setText(note);
    setError(null);
    setEditing(true);
  };
  const save = async (event: Event) => {
    event.preventDefault();
    try {
      const trimmed = text.trim();
      await api.patchTags(run.run_id, trimmed ? { [NOTE_TAG]: trimmed } : {}, trimmed ? [] : [NOTE_TAG]);
      setEditing(false);
      onChange();
    } catch (reason) {
      setError(reason instanceof Error ? reason.message : String(reason));
    }
  };
  if (!note && !editing) {
    return (
      <div class="run-describe" id="notes">
        <span class="muted small">no notes (Markdown)</span>{" "}
        <button type="button" class="link small" onClick={start} aria-label="edit notes">add notes</button>
      </div>
    );
  }
  return (
    <section class="card run-notes" id="notes" aria-labelledby="notes-title">
      <h2 id="notes-title">Notes <span class="muted small">Markdown</span>{" "}
        {!editing && <button type="button" class="link small" onClick={start} aria-label="edit notes">edit</button>}
      </h2>
      {editing ? (
        <form class="notes-form" onSubmit={save} aria-label="notes">
          <textarea value={text} onInput={(e) => setText(e.currentTarget.value)} aria-label="notes (Markdown)" rows={8} maxLength={NOTE_LIMIT} />
          <span class="describe-buttons">
            <button type="submit">Save</button>
            <button type="button" onClick={() => setEditing(false)}>Cancel</button>
            <span class="muted small" aria-live="polite">{text.length.toLocaleString()} / {NOTE_LIMIT.toLocaleString()} characters</span>
          </span>
          {error && <span class="error small" role="alert">{error}</span>}
        </form>
      ) : <Markdown source={note} id="run-notes" />}
    </section>
  );
}
