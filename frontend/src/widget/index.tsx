// The notebook widget's browser module (anywidget's ESM interface): RunDetails(run).show().
// Built by the studio's Vite build (`vite build --mode widget`) into the Python package.
import { render } from "preact";
import studioCss from "../style.css?inline";
import { followTheme } from "../lib/theme";
import { watchHostTheme } from "./hostTheme";
import { kernelDetail, type WidgetModel } from "./model";
import { RunDetailsView } from "./RunDetailsView";
import widgetCss from "./widget.css?inline";

/** Draw the widget in ``el``, isolated in a shadow root from the notebook's styles. */
function renderWidget({ model, el }: { model: WidgetModel; el: HTMLElement }): () => void {
  const host = document.createElement("div");
  host.className = "runhistory-widget";
  el.appendChild(host);
  const shadow = host.attachShadow({ mode: "open" });
  const style = document.createElement("style");
  style.textContent = `${studioCss}\n${widgetCss}`;
  const root = document.createElement("div");
  root.className = "rh-widget";
  shadow.append(style, root);
  const stopTheme = watchHostTheme((theme) => {
    host.dataset.theme = theme;
    followTheme(theme);
  });
  const detail = kernelDetail(model);
  render(<RunDetailsView model={model} detail={detail.fetch} />, root);
  return () => {
    render(null, root);
    detail.dispose();
    stopTheme();
    host.remove();
  };
}

export default { render: renderWidget };
