// The settings of line charts (x axis, log y, smoothing) and the point budget of a chart.
import type { LineSettings, XMode } from "./lineOption";

/** Metric kinds drawn as line charts. */
export const LINE_KINDS = new Set(["scalar", "list"]);

export const DEFAULT_SETTINGS: LineSettings = { xMode: "step", logY: false, smoothing: 0 };

const X_LABELS: Record<XMode, string> = { step: "step", time: "time", relative: "relative time" };

/** Points per series: about one per horizontal pixel of a chart. */
export function pointsFor(width: number): number {
  return Math.max(100, Math.min(2000, Math.round(width)));
}

interface Props {
  settings: LineSettings;
  onChange: (s: LineSettings) => void;
  /** The x axes offered (a single one hides the choice). */
  xModes?: XMode[];
}

export function LineControls({ settings, onChange, xModes = ["step", "time", "relative"] }: Props) {
  return (
    <div class="toolbar chart-controls" role="group" aria-label="chart settings">
      {xModes.length > 1 && (
        <label>x axis{" "}
          <select value={settings.xMode} onChange={(e) => onChange({ ...settings, xMode: e.currentTarget.value as XMode })}>
            {xModes.map((mode) => <option key={mode} value={mode}>{X_LABELS[mode]}</option>)}
          </select>
        </label>
      )}
      <label><input type="checkbox" checked={settings.logY} onChange={(e) => onChange({ ...settings, logY: e.currentTarget.checked })} /> log y</label>
      <label>smoothing{" "}
        <input type="range" min={0} max={0.99} step={0.01} value={settings.smoothing} aria-label="smoothing"
          onInput={(e) => onChange({ ...settings, smoothing: Number(e.currentTarget.value) })} />
        <span class="small">{settings.smoothing.toFixed(2)}</span>
      </label>
    </div>
  );
}
