// Values JSON cannot carry travel as one-key objects: non-finite floats as {"$float": "nan"}
// (and "inf", "-inf"), big integers as {"$int": "<digits>"}. A user's map whose key looks like
// such a marker ("$int", "$$float", "$undecodable", ...) travels with one more "$" in that key
// (docs/rest-api.md). revive() turns markers into numbers and unescapes keys; escapeKeys() does
// the reverse escaping for request bodies.

const FLOAT_MARKER = "$float";
const MARKER_LIKE = /^\$+(?:float|int|undecodable)$/;

/** ``value`` with every ``{"$float": …}`` marker replaced by its number and every escaped
 * key unescaped. Decode a response exactly once: a revived map may hold a marker's key. */
export function revive(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(revive);
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1 && entries[0][0] === FLOAT_MARKER && typeof entries[0][1] === "string") {
      const text = entries[0][1].toLowerCase();
      if (text === "nan") return Number.NaN;
      if (text === "inf" || text === "+inf" || text === "infinity") return Number.POSITIVE_INFINITY;
      if (text === "-inf" || text === "-infinity") return Number.NEGATIVE_INFINITY;
      return Number(text);
    }
    return Object.fromEntries(
      entries.map(([key, item]) => [key.startsWith("$$") && MARKER_LIKE.test(key) ? key.slice(1) : key, revive(item)]),
    );
  }
  return value;
}

/** A response body parsed and revived (markers and escaped keys all start with "$"). */
export function parseWire(text: string): unknown {
  const value: unknown = JSON.parse(text);
  return text.includes('"$') ? revive(value) : value;
}

/** ``value`` with every key that looks like a marker escaped (one more "$"), for sending. */
export function escapeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(escapeKeys);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([key, item]) => [
        MARKER_LIKE.test(key) ? `$${key}` : key,
        escapeKeys(item),
      ]),
    );
  }
  return value;
}
