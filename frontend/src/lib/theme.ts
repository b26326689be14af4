// Light and dark themes. The studio keeps its choice in localStorage (defaulting to the OS) and
// sets a class on <html>; an embedding page (the notebook widget) follows its host's theme
// instead, without touching the page or the storage.
import { useEffect, useState } from "preact/hooks";

export type Theme = "light" | "dark";
const KEY = "runhistory.theme";
const listeners = new Set<(theme: Theme) => void>();

function initialTheme(): Theme {
  const stored = localStorage.getItem(KEY);
  if (stored === "light" || stored === "dark") return stored;
  return matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

let current: Theme | undefined;

function currentTheme(): Theme {
  current ??= initialTheme();
  return current;
}

function announce(theme: Theme): void {
  current = theme;
  for (const listener of listeners) listener(theme);
}

/** The studio's start: the remembered (or the OS's) theme on <html>. */
export function startTheme(): void {
  document.documentElement.dataset.theme = currentTheme();
}

/** The studio's theme switch: remembered, and set on <html>. */
export function setTheme(theme: Theme): void {
  localStorage.setItem(KEY, theme);
  document.documentElement.dataset.theme = theme;
  announce(theme);
}

/** Follow a host page's theme (embedded views): charts redraw, nothing is stored. */
export function followTheme(theme: Theme): void {
  if (theme !== current) announce(theme);
}

export function useTheme(): Theme {
  const [theme, set] = useState(currentTheme);
  useEffect(() => {
    listeners.add(set);
    return () => {
      listeners.delete(set);
    };
  }, []);
  return theme;
}
