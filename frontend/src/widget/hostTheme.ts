// The notebook's theme (JupyterLab, Notebook 7, VS Code, Colab), followed while it changes.
import type { Theme } from "../lib/theme";

export function hostTheme(): Theme {
  const body = document.body;
  const jupyterLight = body.dataset.jpThemeLight;
  if (jupyterLight === "false") return "dark";
  if (jupyterLight === "true") return "light";
  if (body.classList.contains("vscode-dark") || body.classList.contains("vscode-high-contrast")) return "dark";
  if (body.classList.contains("vscode-light")) return "light";
  if (document.documentElement.getAttribute("theme") === "dark") return "dark";
  return matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

/** Call ``onChange`` with the host's theme now and whenever it changes; returns the stop. */
export function watchHostTheme(onChange: (theme: Theme) => void): () => void {
  onChange(hostTheme());
  const observer = new MutationObserver(() => onChange(hostTheme()));
  const options = { attributes: true, attributeFilter: ["class", "data-jp-theme-light", "theme"] };
  observer.observe(document.body, options);
  observer.observe(document.documentElement, options);
  return () => observer.disconnect();
}
