// Editable tags of a run: add key or key=value, remove with the × button.
import { useState } from "preact/hooks";
import { api, type Run } from "../../api";
import { NOTE_TAG } from "./Notes";

export function TagEditor({ run, onChange }: { run: Run; onChange: () => void }) {
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const save = async (set: Record<string, string | null>, remove: string[]) => {
    try {
      await api.patchTags(run.run_id, set, remove);
      setError(null);
      onChange();
    } catch (reason) {
      setError(reason instanceof Error ? reason.message : String(reason));
    }
  };
  const add = (event: Event) => {
    event.preventDefault();
    const entry = text.trim();
    if (!entry) return;
    const at = entry.indexOf("=");
    const key = at < 0 ? entry : entry.slice(0, at).trim();
    if (!key) {
      setError("a tag needs a key: key or key=value");
      return;
    }
    save({ [key]: at < 0 ? null : entry.slice(at + 1) }, []).then(() => setText(""));
  };
  return (
    <div class="tags" id="tags">
      {Object.entries(run.tags).filter(([key]) => key !== NOTE_TAG).map(([key, value]) => (
        <span class="chip" key={key} data-tag={key}>
          {value === null ? key : `${key}=${value}`}
          <button class="chip-x" aria-label={`remove tag ${key}`} onClick={() => save({}, [key])}>×</button>
        </span>
      ))}
      <form onSubmit={add} class="inline">
        <input value={text} onInput={(e) => setText(e.currentTarget.value)} placeholder="key=value" aria-label="new tag" size={16} />
        <button type="submit">Add tag</button>
      </form>
      {error && <span class="error small" role="alert">{error}</span>}
    </div>
  );
}
