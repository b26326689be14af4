// Light and dark themes: a class on <html>, remembered in localStorage, defaulting to the OS.
import { useEffect, useState } from "preact/hooks";

export type Theme = "light" | "dark";
const KEY = "runhistory.theme";
const listeners = new Set<(theme: Theme) => void>();

function initialTheme(): Theme {
  const stored = localStorage.getItem(KEY);
  if (stored === "light" || stored === "dark") return stored;
  return matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

let current: Theme = initialTheme();
document.documentElement.dataset.theme = current;

export function setTheme(theme: Theme): void {
  current = theme;
  localStorage.setItem(KEY, theme);
  document.documentElement.dataset.theme = theme;
  for (const listener of listeners) listener(theme);
}

export function useTheme(): Theme {
  const [theme, set] = useState(current);
  useEffect(() => {
    listeners.add(set);
    return () => {
      listeners.delete(set);
    };
  }, []);
  return theme;
}
