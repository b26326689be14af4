// One ECharts canvas: created once, updated with each new option, disposed on unmount.
import { useEffect, useRef } from "preact/hooks";
import { useTheme } from "../lib/theme";
import { echarts, type Option } from "./echarts";

export interface ZoomRange {
  start: number;
  end: number;
}

interface Props {
  option: Option;
  height?: number;
  label: string;
  /** Called with the x range (axis values) after the user zooms, or null when reset. */
  onZoom?: (range: ZoomRange | null) => void;
  /** Replace rather than merge the option (when series come and go). */
  replace?: boolean;
}

export function Chart({ option, height = 280, label, onZoom, replace = true }: Props) {
  const element = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  const zoomRef = useRef(onZoom);
  zoomRef.current = onZoom;
  const theme = useTheme();

  useEffect(() => {
    if (!element.current) return;
    const instance = echarts.init(element.current, theme === "dark" ? "dark" : undefined, {
      renderer: "canvas",
    });
    chart.current = instance;
    let timer: ReturnType<typeof setTimeout> | undefined;
    instance.on("datazoom", () => {
      clearTimeout(timer);
      timer = setTimeout(() => zoomChanged(instance, zoomRef.current), 250);
    });
    instance.on("finished", () => markFirstChart(instance));
    const observer = new ResizeObserver(() => instance.resize());
    observer.observe(element.current);
    return () => {
      clearTimeout(timer);
      observer.disconnect();
      instance.dispose();
      chart.current = null;
    };
  }, [theme]);

  useEffect(() => {
    chart.current?.setOption(
      { backgroundColor: "transparent", animation: false, aria: { enabled: true }, ...option },
      { notMerge: replace, lazyUpdate: false },
    );
  }, [option, theme, replace]);

  return (
    <div
      class="chart"
      ref={element}
      style={{ height: `${height}px` }}
      data-chart={label}
    />
  );
}

function zoomChanged(instance: echarts.ECharts, onZoom?: (range: ZoomRange | null) => void) {
  if (!onZoom) return;
  const option = instance.getOption() as {
    dataZoom?: { start?: number; end?: number; startValue?: number; endValue?: number }[];
  };
  const zoom = option.dataZoom?.[0];
  if (!zoom) return;
  if ((zoom.start ?? 0) <= 0 && (zoom.end ?? 100) >= 100) onZoom(null);
  else if (zoom.startValue !== undefined && zoom.endValue !== undefined) {
    onZoom({ start: Number(zoom.startValue), end: Number(zoom.endValue) });
  }
}

let firstChartMarked = false;

/** Mark (performance API) the moment the first chart with data has been drawn. */
function markFirstChart(instance: echarts.ECharts): void {
  if (firstChartMarked) return;
  const option = instance.getOption() as { series?: { data?: unknown[] }[] };
  if (!option.series?.some((series) => (series.data?.length ?? 0) > 0)) return;
  firstChartMarked = true;
  performance.mark("runhistory:first-chart");
}

/** Start timing again (the page changed): the next drawn chart sets the mark anew. */
export function resetFirstChartMark(): void {
  firstChartMarked = false;
  performance.clearMarks("runhistory:first-chart");
}
