// Data loading hooks: load once, reload on demand, and poll every 2 s while something is live.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";

export const POLL_MS = 2000;

export interface Loaded<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  reload: () => void;
}

/** Load ``fetcher()`` when ``deps`` change; poll while ``poll(data)`` says so. */
export function useLoad<T>(
  fetcher: () => Promise<T>,
  deps: unknown[],
  poll?: (data: T | undefined) => boolean,
): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  const pollRef = useRef(poll);
  pollRef.current = poll;

  const load = useCallback(() => {
    const mine = ++generation.current;
    fetcher().then(
      (value) => {
        if (mine !== generation.current) return;
        setData(value);
        setError(undefined);
        setLoading(false);
      },
      (reason: unknown) => {
        if (mine !== generation.current) return;
        setError(reason instanceof Error ? reason : new Error(String(reason)));
        setLoading(false);
      },
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);

  useEffect(() => {
    setLoading(true);
    load();
    return () => {
      generation.current++;
    };
  }, [load]);

  useInterval(() => {
    if (pollRef.current?.(data) && !document.hidden) load();
  }, poll ? POLL_MS : null);

  return { data, error, loading, reload: load };
}

export function useInterval(callback: () => void, ms: number | null): void {
  const saved = useRef(callback);
  saved.current = callback;
  useEffect(() => {
    if (ms === null) return;
    const id = setInterval(() => saved.current(), ms);
    return () => clearInterval(id);
  }, [ms]);
}

/** A value kept in localStorage under ``key``. */
export function useStored<T>(key: string, initial: T): [T, (value: T) => void] {
  const [value, setValue] = useState<T>(() => {
    const raw = localStorage.getItem(key);
    if (raw === null) return initial;
    try {
      return JSON.parse(raw) as T;
    } catch {
      return initial;
    }
  });
  const store = useCallback(
    (next: T) => {
      localStorage.setItem(key, JSON.stringify(next));
      setValue(next);
    },
    [key],
  );
  return [value, store];
}

/** The pixel width of an element, updated when it resizes. */
export function useWidth<E extends HTMLElement>(): [preact.RefObject<E>, number] {
  const ref = useRef<E>(null);
  const [width, setWidth] = useState(800);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    setWidth(element.clientWidth || 800);
    const observer = new ResizeObserver(() => setWidth(element.clientWidth || 800));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return [ref, width];
}
