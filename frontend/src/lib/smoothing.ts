// Exponential moving average with debiasing, the smoothing used for training curves.

export function smooth(values: (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return values;
  const out: (number | null)[] = [];
  let last = 0;
  let count = 0;
  for (const value of values) {
    if (value === null || !Number.isFinite(value)) {
      out.push(value);
      continue;
    }
    last = last * weight + (1 - weight) * value;
    count += 1;
    out.push(last / (1 - weight ** count));
  }
  return out;
}
