// One colour per run, the same everywhere: the runs table's swatch, every chart's line.
//
// The colour comes from the run's number in its experiment (runs numbered one after the
// other get different colours), so a run keeps its colour whichever runs a chart shows and in
// whatever order; a run not yet numbered takes one from a hash of its id.

const PALETTE = [
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
  "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd",
  "#31a354", "#756bb1", "#e6550d", "#636363",
];

/** The colour of a run. */
export function runColor(run: { run_id: string; number: number }): string {
  if (run.number > 0) return PALETTE[(run.number - 1) % PALETTE.length];
  let hash = 2166136261;
  for (let i = 0; i < run.run_id.length; i++) {
    hash ^= run.run_id.charCodeAt(i);
    hash = Math.imul(hash, 16777619);
  }
  return PALETTE[(hash >>> 0) % PALETTE.length];
}
