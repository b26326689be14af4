// The run's display name and description, editable in place.
import { useState } from "preact/hooks";
import { api, type Run } from "../../api";

export function RunTitle({ run, onChange }: { run: Run; onChange: () => void }) {
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(run.display_name ?? "");
  const [description, setDescription] = useState(run.description ?? "");
  const [error, setError] = useState<string | null>(null);
  const start = () => {
    setName(run.display_name ?? "");
    setDescription(run.description ?? "");
    setError(null);
    setEditing(true);
  };
  const save = async (event: Event) => {
    event.preventDefault();
    try {
      await api.patchRun(run.run_id, { display_name: name.trim() || null, description: description.trim() || null });
      setEditing(false);
      onChange();
    } catch (reason) {
      setError(reason instanceof Error ? reason.message : String(reason));
    }
  };
  if (!editing) {
    return (
      <div class="run-describe">
        {run.description ? <p id="run-description">{run.description}</p> : <span class="muted small">no description</span>}{" "}
        <button type="button" class="link small" onClick={start} aria-label="edit name and description">edit</button>
      </div>
    );
  }
  return (
    <form class="describe" onSubmit={save} aria-label="name and description">
      <label>name <input value={name} onInput={(e) => setName(e.currentTarget.value)} aria-label="display name" size={40} /></label>
      <label>description <textarea value={description} onInput={(e) => setDescription(e.currentTarget.value)} aria-label="description" rows={3} cols={60} /></label>
      <span class="describe-buttons">
        <button type="submit">Save</button>
        <button type="button" onClick={() => setEditing(false)}>Cancel</button>
      </span>
      {error && <span class="error small" role="alert">{error}</span>}
    </form>
  );
}
