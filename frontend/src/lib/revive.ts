// Non-finite floats travel in JSON as {"$float": "nan"} (and "inf", "-inf"): turn them back
// into numbers, so that the studio shows NaN and sorts infinities where they belong.

const MARKER = "$float";

/** ``value`` with every ``{"$float": …}`` marker replaced by its number. */
export function revive(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(revive);
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1 && entries[0][0] === MARKER && typeof entries[0][1] === "string") {
      const text = entries[0][1].toLowerCase();
      if (text === "nan") return Number.NaN;
      if (text === "inf" || text === "+inf" || text === "infinity") return Number.POSITIVE_INFINITY;
      if (text === "-inf" || text === "-infinity") return Number.NEGATIVE_INFINITY;
      return Number(text);
    }
    return Object.fromEntries(entries.map(([key, item]) => [key, revive(item)]));
  }
  return value;
}
