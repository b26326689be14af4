// Parameter importance as correlation: how each numeric parameter of the runs moves with a
// chosen metric's last value (Pearson's r over the runs having both). A correlation, not a
// fitted model: it misses non-linear effects and interactions, and says nothing of causes.

/** A value as a number: numbers, and strings that are whole numbers (``"0.01"``, ``"1e-3"``). */
export function asNumber(value: unknown): number | null {
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "string" && value.trim() !== "") {
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : null;
  }
  return null;
}

/** Pearson's correlation of paired values, or null when either side does not vary. */
export function pearson(xs: number[], ys: number[]): number | null {
  const n = xs.length;
  if (n < 3 || new Set(xs).size < 2 || new Set(ys).size < 2) return null;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i] - mx;
    const dy = ys[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return null;
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

export interface Parameter {
  /** What the user sees: ``property: lr``, ``tag: arch``, ``metric: lr``. */
  label: string;
  /** Each run's value (``undefined`` when the run has none). */
  values: Map<string, unknown>;
}

export interface Correlation {
  label: string;
  r: number;
  /** How many runs had both a numeric parameter value and a metric value. */
  n: number;
}

/** The correlation of each numeric parameter with the metric, strongest (by |r|) first.
 *  Parameters with non-numeric values, fewer than three runs or no variation are left out. */
export function correlations(parameters: Parameter[], metric: Map<string, number>): Correlation[] {
  const found: Correlation[] = [];
  for (const parameter of parameters) {
    const xs: number[] = [];
    const ys: number[] = [];
    let numeric = true;
    for (const [runId, raw] of parameter.values) {
      const y = metric.get(runId);
      if (raw === undefined || raw === null || y === undefined) continue;
      const x = asNumber(raw);
      if (x === null) {
        numeric = false;
        break;
      }
      xs.push(x);
      ys.push(y);
    }
    const r = numeric ? pearson(xs, ys) : null;
    if (r !== null) found.push({ label: parameter.label, r, n: xs.length });
  }
  return found.sort((a, b) => Math.abs(b.r) - Math.abs(a.r) || a.label.localeCompare(b.label));
}
