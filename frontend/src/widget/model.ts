// The kernel side of the widget, as anywidget hands it over: traits to read, messages to send.
import { useEffect, useState } from "preact/hooks";
import type { Series } from "../api";
import type { DetailFetcher } from "../charts/SeriesChart";

type Callback = (...args: never[]) => void;

/** The part of anywidget's model interface the widget uses. */
export interface WidgetModel {
  get(name: string): unknown;
  set(name: string, value: unknown): void;
  save_changes(): void;
  on(event: string, callback: Callback): void;
  off(event?: string | null, callback?: Callback | null): void;
  send(content: unknown): void;
}

/** A trait's value, re-rendered when the kernel changes it. */
export function useTrait<T>(model: WidgetModel, name: string): T {
  const [value, setValue] = useState<T>(() => model.get(name) as T);
  useEffect(() => {
    const changed = () => setValue(model.get(name) as T);
    model.on(`change:${name}`, changed);
    return () => model.off(`change:${name}`, changed);
  }, [model, name]);
  return value;
}

interface DetailAnswer {
  type: "detail";
  id: number;
  series?: Series[];
  error?: string;
}

/** Full-resolution points of a zoomed chart, asked from the kernel (it answers when idle). */
export function kernelDetail(model: WidgetModel): { fetch: DetailFetcher; dispose: () => void } {
  let next = 0;
  const waiting = new Map<number, [(series: Series[]) => void, (error: Error) => void]>();
  const answered = (content: DetailAnswer) => {
    if (content?.type !== "detail") return;
    const pending = waiting.get(content.id);
    waiting.delete(content.id);
    if (!pending) return;
    if (content.series) pending[0](content.series);
    else pending[1](new Error(content.error ?? "no answer"));
  };
  model.on("msg:custom", answered as Callback);
  const fetch: DetailFetcher = ({ runIds, name, maxPoints, range }) =>
    new Promise((resolve, reject) => {
      const id = ++next;
      waiting.set(id, [resolve, reject]);
      model.send({
        type: "detail", id, run_ids: runIds, name, max_points: maxPoints,
        min_step: Math.floor(range.start), max_step: Math.ceil(range.end),
      });
    });
  return { fetch, dispose: () => model.off("msg:custom", answered as Callback) };
}
