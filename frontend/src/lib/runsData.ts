// Loading an experiment's runs and their last metric values, and keeping live runs fresh.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, type Run } from "../api";
import { isLive } from "./format";
import { POLL_MS, useInterval } from "./hooks";
import type { LastValues } from "./runFilter";

const CHUNK = 2000;

async function lastValues(runIds: string[]): Promise<LastValues> {
  const parts = [];
  for (let i = 0; i < runIds.length; i += CHUNK) parts.push(api.last(runIds.slice(i, i + CHUNK)));
  return Object.assign({}, ...(await Promise.all(parts)));
}

export interface RunsData {
  runs: Run[] | undefined;
  last: LastValues;
  error: Error | undefined;
}

/** Every run of an experiment (children included); live runs are refreshed every 2 s. */
export function useRuns(experimentId: string): RunsData {
  const [runs, setRuns] = useState<Map<string, Run> | undefined>(undefined);
  const [last, setLast] = useState<LastValues>({});
  const [error, setError] = useState<Error | undefined>(undefined);
  const busy = useRef(false);

  useEffect(() => {
    let current = true;
    setRuns(undefined);
    setLast({});
    api.runs(experimentId).then(
      (found) => {
        if (!current) return;
        setRuns(new Map(found.map((run) => [run.run_id, run])));
        lastValues(found.map((run) => run.run_id)).then((values) => current && setLast(values), setError);
      },
      (reason: Error) => current && setError(reason),
    );
    return () => {
      current = false;
    };
  }, [experimentId]);

  useInterval(() => {
    if (!runs || busy.current || document.hidden) return;
    busy.current = true;
    refreshLive(experimentId, runs)
      .then(({ changed, values }) => {
        if (changed.length) {
          setRuns((old) => {
            const next = new Map(old);
            for (const run of changed) next.set(run.run_id, run);
            return next;
          });
        }
        if (Object.keys(values).length) setLast((old) => ({ ...old, ...values }));
      })
      .catch(setError)
      .finally(() => {
        busy.current = false;
      });
  }, POLL_MS);

  return { runs: runs ? [...runs.values()] : undefined, last, error };
}

/** New and live runs (and runs that were live and have just ended) with their last values. */
async function refreshLive(experimentId: string, known: Map<string, Run>) {
  const wasLive = [...known.values()].filter((run) => isLive(run.status));
  const fresh = await api.recentRuns(experimentId);
  const changed: Run[] = fresh.filter((run) => {
    const old = known.get(run.run_id);
    return !old || old.status !== run.status || old.end_time !== run.end_time || JSON.stringify(old.tags) !== JSON.stringify(run.tags);
  });
  const seen = new Set(fresh.map((run) => run.run_id));
  const ended = await Promise.all(wasLive.filter((run) => !seen.has(run.run_id)).slice(0, 200).map((run) => api.run(run.run_id)));
  changed.push(...ended.filter((run) => run.status !== known.get(run.run_id)?.status));
  const liveIds = [...new Set([...wasLive.map((run) => run.run_id), ...changed.map((run) => run.run_id)])];
  const values = liveIds.length ? await lastValues(liveIds) : {};
  return { changed, values };
}
