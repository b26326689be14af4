// A small Markdown renderer that builds elements, never HTML strings: raw HTML in the text is
// shown as text, and links keep only http(s), mailto and in-page/relative targets.
import type { ComponentChildren, VNode } from "preact";

const SAFE_LINK = /^(https?:|mailto:|#|\/|\.{0,2}\/?[\w.-]+(\/|$|[?#]))/i;

/** A link target that cannot run script (``javascript:``, ``data:`` ... are refused). */
export function safeHref(target: string): string | null {
  const trimmed = target.trim();
  if (/^[a-z][a-z0-9+.-]*:/i.test(trimmed) && !/^(https?|mailto):/i.test(trimmed)) return null;
  return SAFE_LINK.test(trimmed) ? trimmed : null;
}

const INLINE = /(`+)([\s\S]*?)\1|\*\*([^*]+)\*\*|__([^_]+)__|\*([^*\s][^*]*)\*|_([^_\s][^_]*)_|!?\[([^\]]*)\]\(([^)\s]*)\)|(https?:\/\/[^\s<>()]+)/g;

/** Inline Markdown: code, bold, italic, links (images are shown as links), bare URLs. */
export function inline(text: string): ComponentChildren[] {
  const out: ComponentChildren[] = [];
  let last = 0;
  for (const match of text.matchAll(INLINE)) {
    const at = match.index ?? 0;
    if (at > last) out.push(text.slice(last, at));
    const [whole, , code, bold1, bold2, em1, em2, label, target, bare] = match;
    if (code !== undefined) out.push(<code>{code}</code>);
    else if (bold1 !== undefined || bold2 !== undefined) out.push(<strong>{inline(bold1 ?? bold2)}</strong>);
    else if (em1 !== undefined || em2 !== undefined) out.push(<em>{inline(em1 ?? em2)}</em>);
    else if (label !== undefined) {
      const href = safeHref(target);
      out.push(href ? <a href={href} rel="noopener noreferrer" target={href.startsWith("#") ? undefined : "_blank"}>{label || href}</a> : whole);
    } else if (bare !== undefined) out.push(<a href={bare} rel="noopener noreferrer" target="_blank">{bare}</a>);
    last = at + whole.length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

const HEADING = /^(#{1,6})\s+(.*?)\s*#*\s*$/;
const BULLET = /^\s*[-*+]\s+(.*)$/;
const NUMBERED = /^\s*\d+[.)]\s+(.*)$/;
const FENCE = /^\s*(```|~~~)/;
const RULE = /^\s*([-*_])(\s*\1){2,}\s*$/;
const TABLE_RULE = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;

function cells(line: string): string[] {
  return line.trim().replace(/^\||\|$/g, "").split("|").map((cell) => cell.trim());
}

/** Block Markdown: headings, paragraphs, lists, fenced code, quotes, rules and tables. */
export function markdown(source: string): VNode[] {
  const lines = source.replace(/\r\n?/g, "\n").split("\n");
  const blocks: VNode[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) {
      i++;
      continue;
    }
    if (FENCE.test(line)) {
      const fence = line.trim().slice(0, 3);
      const body: string[] = [];
      i++;
      while (i < lines.length && !lines[i].trim().startsWith(fence)) body.push(lines[i++]);
      i++;
      blocks.push(<pre class="md-code"><code>{body.join("\n")}</code></pre>);
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      const Tag = `h${Math.min(6, heading[1].length + 2)}` as "h3";
      blocks.push(<Tag>{inline(heading[2])}</Tag>);
      i++;
      continue;
    }
    if (RULE.test(line)) {
      blocks.push(<hr />);
      i++;
      continue;
    }
    if (line.trimStart().startsWith(">")) {
      const quoted: string[] = [];
      while (i < lines.length && lines[i].trimStart().startsWith(">")) quoted.push(lines[i++].trimStart().replace(/^>\s?/, ""));
      blocks.push(<blockquote>{markdown(quoted.join("\n"))}</blockquote>);
      continue;
    }
    if (line.includes("|") && i + 1 < lines.length && TABLE_RULE.test(lines[i + 1])) {
      const head = cells(line);
      const rows: string[][] = [];
      i += 2;
      while (i < lines.length && lines[i].includes("|") && lines[i].trim()) rows.push(cells(lines[i++]));
      blocks.push(
        <table class="data compact">
          <thead><tr>{head.map((cell) => <th>{inline(cell)}</th>)}</tr></thead>
          <tbody>{rows.map((row) => <tr>{head.map((_, c) => <td>{inline(row[c] ?? "")}</td>)}</tr>)}</tbody>
        </table>,
      );
      continue;
    }
    const listKind = BULLET.test(line) ? BULLET : NUMBERED.test(line) ? NUMBERED : null;
    if (listKind) {
      const items: string[] = [];
      while (i < lines.length && lines[i].trim()) {
        const item = listKind.exec(lines[i]);
        if (item) items.push(item[1]);
        else if (items.length) items[items.length - 1] += ` ${lines[i].trim()}`;
        i++;
      }
      const children = items.map((item) => <li>{inline(item)}</li>);
      blocks.push(listKind === BULLET ? <ul>{children}</ul> : <ol>{children}</ol>);
      continue;
    }
    const paragraph: string[] = [];
    while (i < lines.length && lines[i].trim() && !FENCE.test(lines[i]) && !HEADING.test(lines[i]) && !BULLET.test(lines[i]) && !lines[i].trimStart().startsWith(">")) {
      paragraph.push(lines[i++].trim());
    }
    if (!paragraph.length) paragraph.push(lines[i++].trim());
    blocks.push(<p>{inline(paragraph.join(" "))}</p>);
  }
  return blocks;
}

/** Rendered Markdown in a container with the studio's Markdown styles. */
export function Markdown({ source, id }: { source: string; id?: string }) {
  return <div class="markdown" id={id}>{markdown(source)}</div>;
}
