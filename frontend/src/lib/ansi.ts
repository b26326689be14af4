// Terminal output for the log viewer: carriage returns overwrite the line (a progress bar
// shows its last state), ANSI colour codes become styled segments, other escapes are dropped.

export interface Segment {
  text: string;
  /** CSS classes (bold, dim, ...) and colours of the segment. */
  classes: string;
  color?: string;
  background?: string;
}

const BASIC = ["#000000", "#cd3131", "#0dbc79", "#b8a000", "#2472c8", "#bc3fbc", "#11a8cd", "#9a9a9a"];
const BRIGHT = ["#666666", "#f14c4c", "#23d18b", "#d5c000", "#3b8eea", "#d670d6", "#29b8db", "#e5e5e5"];

function color256(n: number): string {
  if (n < 8) return BASIC[n];
  if (n < 16) return BRIGHT[n - 8];
  if (n >= 232) {
    const level = 8 + (n - 232) * 10;
    return `rgb(${level},${level},${level})`;
  }
  const k = n - 16;
  const part = (v: number) => (v === 0 ? 0 : 55 + v * 40);
  return `rgb(${part(Math.floor(k / 36))},${part(Math.floor(k / 6) % 6)},${part(k % 6)})`;
}

/** Each line as a terminal leaves it: the text after a line's last carriage return wins
 *  (characters it does not cover stay, as on a terminal). */
export function applyCarriageReturns(text: string): string {
  return text
    .replace(/\r\n/g, "\n")
    .split("\n")
    .map((line) => {
      if (!line.includes("\r")) return line;
      let shown = "";
      for (const part of line.split("\r")) shown = part + shown.slice(part.length);
      return shown;
    })
    .join("\n");
}

// SGR (colours, styles) and every other CSI or OSC escape sequence.
const ESCAPE = /\x1b\[([0-9;?]*)([A-Za-z])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][A-Za-z0-9]|\x1b[=>78]/g;

interface Style {
  bold: boolean;
  dim: boolean;
  italic: boolean;
  underline: boolean;
  color?: string;
  background?: string;
}

function applySgr(style: Style, codes: number[]): Style {
  const next = { ...style };
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i];
    if (code === 0) Object.assign(next, { bold: false, dim: false, italic: false, underline: false, color: undefined, background: undefined });
    else if (code === 1) next.bold = true;
    else if (code === 2) next.dim = true;
    else if (code === 3) next.italic = true;
    else if (code === 4) next.underline = true;
    else if (code === 22) Object.assign(next, { bold: false, dim: false });
    else if (code === 23) next.italic = false;
    else if (code === 24) next.underline = false;
    else if (code >= 30 && code <= 37) next.color = BASIC[code - 30];
    else if (code >= 90 && code <= 97) next.color = BRIGHT[code - 90];
    else if (code === 39) next.color = undefined;
    else if (code >= 40 && code <= 47) next.background = BASIC[code - 40];
    else if (code >= 100 && code <= 107) next.background = BRIGHT[code - 100];
    else if (code === 49) next.background = undefined;
    else if ((code === 38 || code === 48) && codes[i + 1] === 5) {
      const value = color256(codes[i + 2] ?? 0);
      if (code === 38) next.color = value;
      else next.background = value;
      i += 2;
    } else if ((code === 38 || code === 48) && codes[i + 1] === 2) {
      const value = `rgb(${codes[i + 2] ?? 0},${codes[i + 3] ?? 0},${codes[i + 4] ?? 0})`;
      if (code === 38) next.color = value;
      else next.background = value;
      i += 4;
    }
  }
  return next;
}

function classesOf(style: Style): string {
  return [style.bold && "ansi-bold", style.dim && "ansi-dim", style.italic && "ansi-italic", style.underline && "ansi-underline"]
    .filter(Boolean)
    .join(" ");
}

/** Styled segments of terminal text (carriage returns applied first). */
export function parseAnsi(raw: string): Segment[] {
  const text = applyCarriageReturns(raw);
  const segments: Segment[] = [];
  let style: Style = { bold: false, dim: false, italic: false, underline: false };
  let at = 0;
  const push = (part: string) => {
    if (!part) return;
    const previous = segments.at(-1);
    const classes = classesOf(style);
    if (previous && previous.classes === classes && previous.color === style.color && previous.background === style.background) {
      previous.text += part;
    } else segments.push({ text: part, classes, color: style.color, background: style.background });
  };
  for (const match of text.matchAll(ESCAPE)) {
    push(text.slice(at, match.index));
    at = (match.index ?? 0) + match[0].length;
    if (match[2] === "m") {
      const codes = (match[1] || "0").split(";").map((c) => Number(c) || 0);
      style = applySgr(style, codes);
    }
  }
  push(text.slice(at));
  return segments;
}
