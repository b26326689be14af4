// Hash routing: the links run.get_portal_url() and experiment.get_portal_url() print land here.
import { useEffect, useState } from "preact/hooks";

export type Route =
  | { page: "experiments" }
  | { page: "runs"; experimentId: string; params: URLSearchParams }
  | { page: "run"; experimentId: string; runId: string; tab: string }
  | { page: "compare"; experimentId: string; runIds: string[] }
  | { page: "sign-in"; code: string | null }
  | { page: "missing"; path: string }
  | { page: "models" }
  | { page: "model"; name: string; version: number | null };

export function parseRoute(hash: string): Route {
  const [path, search = ""] = hash.replace(/^#/, "").split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(search);
  if (parts.length === 0 || (parts.length === 1 && parts[0] === "experiments")) {
    return { page: "experiments" };
  }
  if (parts.length === 1 && parts[0] === "sign-in") return { page: "sign-in", code: params.get("code") };
  if (parts[0] === "models" && parts.length === 1) return { page: "models" };
  if (parts[0] === "models" && parts.length === 2) {
    const version = Number(params.get("version"));
    return { page: "model", name: parts[1], version: Number.isInteger(version) && version > 0 ? version : null };
  }
  if (parts[0] !== "experiments") return { page: "missing", path };
  const experimentId = parts[1];
  if (parts.length === 2) return { page: "runs", experimentId, params };
  if (parts.length === 3 && parts[2] === "compare") {
    const runIds = (params.get("runs") ?? "").split(",").filter(Boolean);
    return { page: "compare", experimentId, runIds };
  }
  if (parts[2] === "runs" && parts.length >= 4) {
    return { page: "run", experimentId, runId: parts[3], tab: parts[4] ?? "metrics" };
  }
  return { page: "missing", path };
}

export const href = {
  experiments: () => "#/experiments",
  runs: (experimentId: string, params?: URLSearchParams) => {
    const search = params?.toString();
    return `#/experiments/${encodeURIComponent(experimentId)}${search ? `?${search}` : ""}`;
  },
  run: (experimentId: string, runId: string, tab?: string) =>
    `#/experiments/${encodeURIComponent(experimentId)}/runs/${encodeURIComponent(runId)}` +
    (tab && tab !== "metrics" ? `/${tab}` : ""),
  compare: (experimentId: string, runIds: string[]) =>
    `#/experiments/${encodeURIComponent(experimentId)}/compare?runs=${runIds
      .map(encodeURIComponent)
      .join(",")}`,
  models: () => "#/models",
  model: (name: string, version?: number) =>
    `#/models/${encodeURIComponent(name)}${version ? `?version=${version}` : ""}`,
};

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", update);
    return () => removeEventListener("hashchange", update);
  }, []);
  return route;
}
