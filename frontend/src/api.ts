// The REST API client: every call the studio makes goes through here (docs/rest-api.md).
import { escapeKeys, parseWire } from "./lib/revive";

export interface Experiment {
  experiment_id: string;
  name: string;
  created_time: number;
  archived_time: number | null;
  tags: Record<string, string | null>;
  last_activity_time: number | null;
  run_count?: number;
}

export interface Run {
  run_id: string;
  experiment_id: string;
  experiment_name: string;
  number: number;
  status: string;
  created_time: number;
  parent_run_id: string | null;
  root_run_id: string | null;
  display_name: string | null;
  description: string | null;
  run_type: string;
  target: string;
  submitted_by: string | null;
  start_time: number | null;
  end_time: number | null;
  heartbeat_time: number | null;
  snapshot_id: string | null;
  error: Record<string, unknown> | null;
  run_definition: Record<string, unknown> | null;
  tags: Record<string, string | null>;
  properties: Record<string, string>;
}

export interface MetricInfo {
  run_id: string;
  name: string;
  kind: string;
  description: string;
  count: number;
  has_step: boolean | null;
  last_value: unknown;
  last_step: number | null;
  updated_time: number | null;
}

export interface FileInfo {
  run_id: string;
  name: string;
  size: number;
  sha256: string;
  created_time: number;
}

export interface Series {
  run_id: string;
  name: string;
  kind: string;
  count: number;
  downsampled: boolean;
  x: number[];
  y: (number | null)[];
  min?: (number | null)[];
  max?: (number | null)[];
}

export interface SeriesRequest {
  run_ids: string[];
  names: string[];
  max_points: number;
  min_step?: number;
  max_step?: number;
  x?: "step" | "time";
}

interface Page<T> {
  items: T[];
  next_offset: number | null;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly kind: string,
    message: string,
  ) {
    super(message);
  }
}

const BASE = "api/v1";
/** Fired on window when the server answers 401: the studio then shows its sign-in page. */
export const UNAUTHORIZED_EVENT = "runhistory:unauthorized";

/** The anti-forgery value the server set next to the session cookie (readable by this page
 *  only); every state-changing request sends it back in the X-CSRF-Token header. */
function csrfToken(): string | null {
  const found = document.cookie.split("; ").find((c) => c.startsWith("rh_csrf="));
  return found ? decodeURIComponent(found.slice("rh_csrf=".length)) : null;
}

function headers(extra: Record<string, string> = {}, method = "GET"): Record<string, string> {
  const csrf = method === "GET" || method === "HEAD" ? null : csrfToken();
  return csrf ? { ...extra, "X-CSRF-Token": csrf } : extra;
}

async function failure(response: Response): Promise<ApiError> {
  if (response.status === 401) dispatchEvent(new Event(UNAUTHORIZED_EVENT));
  let kind = "HttpError";
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    kind = body.error ?? kind;
    message = body.message ?? message;
  } catch {
    /* not a JSON error body */
  }
  return new ApiError(response.status, kind, message);
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, headers: headers({}, method) };
  if (body !== undefined) {
    init.body = JSON.stringify(escapeKeys(body));
    init.headers = headers({ "Content-Type": "application/json" }, method);
  }
  const response = await fetch(`${BASE}${path}`, init);
  if (!response.ok) throw await failure(response);
  if (response.status === 204) return undefined as T;
  return parseWire(await response.text()) as T;
}

function query(params: Record<string, string | number | boolean | string[] | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) search.append(key, String(item));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

const LIVE_STATUSES = [
  "NotStarted", "Starting", "Provisioning", "Preparing", "Queued", "Running", "Finalizing",
  "CancelRequested", "NotResponding",
];

async function all<T>(
  path: string,
  params: Record<string, string | boolean | string[] | undefined>,
) {
  const items: T[] = [];
  let offset: number | null = 0;
  while (offset !== null) {
    const page: Page<T> = await request("GET", path + query({ ...params, limit: 10000, offset }));
    items.push(...page.items);
    offset = page.next_offset;
  }
  return items;
}

let timeSeries: Promise<boolean> | undefined;

export const api = {
  /** Whether this server's ``/metrics/series`` takes ``x: "time"`` (from its OpenAPI schema). */
  offersTimeSeries: () => {
    timeSeries ??= request<{ components?: { schemas?: Record<string, { properties?: object }> } }>(
      "GET",
      "/openapi.json",
    ).then(
      (schema) => "x" in (schema.components?.schemas?.SeriesRequest?.properties ?? {}),
      () => false,
    );
    return timeSeries;
  },
  experiments: (viewType: string) =>
    all<Experiment>("/experiments", { view_type: viewType }),
  experiment: (id: string) => request<Experiment>("GET", `/experiments/${enc(id)}`),
  /** Runs of an experiment, without their definitions (``run`` has them). */
  runs: (experimentId: string) =>
    all<Run>("/runs", {
      experiment_id: experimentId,
      include_children: true,
      with_definition: false,
    }),
  /** The 100 newest runs and every live run of an experiment (for polling). */
  recentRuns: async (experimentId: string) => {
    const base = { experiment_id: experimentId, include_children: true, with_definition: false };
    const [newest, live] = await Promise.all([
      request<Page<Run>>("GET", "/runs" + query({ ...base, limit: 100 })),
      all<Run>("/runs", { ...base, status: LIVE_STATUSES }),
    ]);
    const merged = new Map([...newest.items, ...live].map((run) => [run.run_id, run]));
    return [...merged.values()];
  },
  run: (runId: string) => request<Run>("GET", `/runs/${enc(runId)}`),
  /** Several runs by id in one request (without their definitions), in the order asked. */
  runsById: async (runIds: string[]) =>
    (await request<{ items: Run[] }>("POST", "/runs/lookup", { run_ids: runIds })).items,
  /** The metric infos of several runs in one request. */
  metricInfosOf: async (runIds: string[]) =>
    (await request<{ items: MetricInfo[] }>("POST", "/metrics/infos", { run_ids: runIds })).items,
  /** Change a run's display name and description (``null`` clears one). */
  patchRun: (runId: string, fields: { display_name?: string | null; description?: string | null }) =>
    request<Run>("PATCH", `/runs/${enc(runId)}`, fields),
  children: (runId: string) =>
    all<Run>(`/runs/${enc(runId)}/children`, {}),
  patchTags: (runId: string, set: Record<string, string | null>, remove: string[]) =>
    request<void>("PATCH", `/runs/${enc(runId)}/tags`, { set, remove }),
  metricInfos: async (runId: string) =>
    (await request<{ items: MetricInfo[] }>("GET", `/runs/${enc(runId)}/metrics/info`)).items,
  metric: async (runId: string, name: string) => {
    const found = await request<Record<string, unknown>>(
      "GET",
      `/runs/${enc(runId)}/metrics${query({ name })}`,
    );
    return found[name];
  },
  /** Chart series; ``x`` is sent only for a time axis (steps are the default). */
  series: async ({ x, ...body }: SeriesRequest) =>
    (
      await request<{ series: Series[] }>(
        "POST",
        "/metrics/series",
        x === "time" ? { ...body, x } : body,
      )
    ).series,
  /** Every point of one metric (full resolution: only for metrics known to be small). */
  history: (runId: string, name: string) =>
    request<{ steps: number[] | null; values: unknown[]; times: number[] }>(
      "GET",
      `/runs/${enc(runId)}/metrics/history${query({ name })}`,
    ),
  last: (runIds: string[], names?: string[], value?: "min" | "max") =>
    request<Record<string, Record<string, unknown>>>("POST", "/metrics/last", {
      run_ids: runIds,
      ...(names ? { names } : {}),
      ...(value ? { value } : {}),
    }),
  files: (runId: string, prefix?: string) =>
    all<FileInfo>(`/runs/${enc(runId)}/files`, { prefix }),
  fileUrl: (runId: string, name: string) =>
    `${BASE}/runs/${enc(runId)}/files/${name.split("/").map(enc).join("/")}`,
  snapshotUrl: (snapshotId: string) => `${BASE}/snapshots/${enc(snapshotId)}/zip`,
  /** The bytes of a file from byte ``from`` on, as text, with how many bytes were read. */
  fileTail: async (runId: string, name: string, from = 0) => {
    const extra: Record<string, string> = from > 0 ? { Range: `bytes=${from}-` } : {};
    const response = await fetch(api.fileUrl(runId, name), { headers: headers(extra) });
    if (response.status === 416) return { text: "", bytes: 0 };
    if (!response.ok) throw await failure(response);
    const buffer = await response.arrayBuffer();
    if (from > 0 && response.status === 200) {
      return { text: decoder.decode(buffer.slice(from)), bytes: buffer.byteLength - from };
    }
    return { text: decoder.decode(buffer), bytes: buffer.byteLength };
  },
  /** One keyset page of a run listing (the runs table: filters, ``sort``, ``page_token``). */
  runsPage: (params: ListingParams) => request<RunsPage>("GET", "/runs" + query(params)),
  /** How many runs a listing with these filters has (one counting query). */
  countRuns: async (params: ListingParams) =>
    (await request<{ count: number }>("GET", "/counts/runs" + query(params))).count,
  /** The distinct tag and property keys and metric names of an experiment's runs. */
  experimentSummary: (experimentId: string) =>
    request<ExperimentSummary>("GET", `/experiments/${enc(experimentId)}/summary`),
  /** The experiment's runs (filtered) grouped by ``by`` (``property:<k>``/``tag:<k>``). */
  runGroups: async (experimentId: string, params: ListingParams) =>
    (await request<{ items: RunGroup[] }>("GET", `/experiments/${enc(experimentId)}/run-groups` + query(params))).items,
  /** The saved views of an experiment's runs table. */
  views: async (experimentId: string) =>
    (await request<{ items: SavedView[] }>("GET", `/experiments/${enc(experimentId)}/views`)).items,
  saveView: (experimentId: string, name: string, state: string) =>
    request<SavedView>("PUT", `/experiments/${enc(experimentId)}/views/${enc(name)}`, { state }),
  deleteView: (experimentId: string, name: string) =>
    request<void>("DELETE", `/experiments/${enc(experimentId)}/views/${enc(name)}`),
};

export interface RunGroup {
  value: string | null;
  runs: number;
  mean: number | null;
}

export interface SavedView {
  experiment_id: string;
  name: string;
  /** The runs table's URL query (filter, sort, columns …). */
  state: string;
  created_time: number;
  updated_time: number;
}

export type ListingParams = Record<string, string | number | boolean | string[] | undefined>;

export interface RunsPage {
  items: Run[];
  next_page_token: string | null;
  /** Direct children of the page's runs that have any (with ``with_child_counts``). */
  child_counts?: Record<string, number>;
}

export interface KeyCount {
  key: string;
  runs: number;
}

export interface ExperimentSummary {
  experiment_id: string;
  runs: number;
  tags: KeyCount[];
  properties: KeyCount[];
  metrics: KeyCount[];
}

const decoder = new TextDecoder();

function enc(part: string): string {
  return encodeURIComponent(part);
}

export interface ModelVersion {
  name: string;
  version: number;
  created_time: number;
  run_id: string | null;
  experiment_name: string | null;
  description: string | null;
  framework: string | null;
  framework_version: string | null;
  tags: Record<string, string | null>;
  properties: Record<string, string>;
  files: string[];
}

/** The model registry (``/models``). */
export const modelsApi = {
  /** Every registered version (of one model with ``name``). */
  list: (name?: string) => all<ModelVersion>("/models", { name }),
  fileUrl: (name: string, version: number, file: string) =>
    `${BASE}/models/${enc(name)}/versions/${version}/files/${file.split("/").map(enc).join("/")}`,
};
