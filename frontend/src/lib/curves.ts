// ROC, precision-recall and gain curves from an accuracy table's TP/FP/TN/FN counts.

export type Counts = [number, number, number, number]; // TP, FP, TN, FN

export interface Curve {
  x: number[];
  y: number[];
}

export interface ClassCurves {
  label: string;
  roc: Curve;
  pr: Curve;
  gain: Curve;
  lift: Curve;
  auc: number;
}

const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);

/** One class's curves: a point per threshold, in threshold order. */
export function curves(label: string, table: Counts[]): ClassCurves {
  const roc: Curve = { x: [], y: [] };
  const pr: Curve = { x: [], y: [] };
  const gain: Curve = { x: [], y: [] };
  const lift: Curve = { x: [], y: [] };
  for (const [tp, fp, tn, fn] of table) {
    const n = tp + fp + tn + fn;
    const recall = ratio(tp, tp + fn);
    roc.x.push(ratio(fp, fp + tn));
    roc.y.push(recall);
    pr.x.push(recall);
    pr.y.push(tp + fp === 0 ? 1 : tp / (tp + fp));
    const share = ratio(tp + fp, n);
    gain.x.push(share);
    gain.y.push(recall);
    if (share > 0) {
      lift.x.push(share);
      lift.y.push(recall / share);
    }
  }
  return { label, roc, pr, gain, lift, auc: area(roc) };
}

/** Area under a curve by the trapezoid rule, the points sorted by x. */
export function area(curve: Curve): number {
  const order = curve.x.map((_, i) => i).sort((a, b) => curve.x[a] - curve.x[b] || curve.y[a] - curve.y[b]);
  let total = 0;
  for (let k = 1; k < order.length; k++) {
    const i = order[k - 1];
    const j = order[k];
    total += ((curve.x[j] - curve.x[i]) * (curve.y[j] + curve.y[i])) / 2;
  }
  return total;
}

/** Row-normalised confusion matrix (each actual class sums to 1). */
export function normalise(matrix: number[][]): number[][] {
  return matrix.map((row) => {
    const sum = row.reduce((a, b) => a + b, 0);
    return row.map((value) => (sum === 0 ? 0 : value / sum));
  });
}
