"""``search_runs`` with ``order_by`` pages by keyset in the store: through the real ``mlflow``
client against ``runhistory server`` (SQLite and PostgreSQL), paging with a small
``max_results`` gives exactly the order of one unpaged query (no run skipped or repeated), that
order is the one ``mlflow server`` gives on the same data, and a forged or foreign page token is
refused with ``INVALID_PARAMETER_VALUE``."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from mlflow.entities import Metric, Param, Run, RunTag
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from mlflow_targets import client_of, mlflow_server

from support.services import server_on

# MLflow's client warns about its own deprecations.
pytestmark = pytest.mark.filterwarnings("ignore::Warning")

ORDERS: list[list[str]] = [
    ["metrics.acc DESC"],
    ["metrics.acc ASC"],
    ["params.lr"],
    ["params.lr DESC"],
    ["tags.group ASC"],
    ["attributes.start_time ASC"],
    ["attributes.end_time DESC"],
    ["attributes.run_name ASC"],
    ["run_name DESC"],
    ["attributes.status DESC"],
    ["metrics.acc DESC", "params.lr ASC"],
    ["params.lr ASC", "metrics.loss DESC"],
    ["tags.group DESC", "attributes.end_time ASC"],
    ["tags.`mlflow.runName` ASC"],
]
RUNS = 26
NAMES = ["run-a", "Run-b", "run-A", "run-b", "r\u00fcn", "run-a", "run-10", "run-9"]
BASE = 1_700_000_000_000


@dataclass
class Side:
    """A server MLflow's client talks to, with the experiments made there."""

    client: MlflowClient
    experiment_id: str
    other_id: str


def _populate(client: MlflowClient) -> Side:
    """The same runs on any server: ties, NaN, infinities and missing values in every key."""
    experiment_id = client.create_experiment("ordered")
    other_id = client.create_experiment("ordered-other")
    for index in range(RUNS):
        start = BASE + (index * 7 % RUNS) * 1000 + (0 if index % 9 else 500_000)  # two ties
        run = client.create_run(
            other_id if index % 5 == 4 else experiment_id,
            start_time=start,
            run_name=NAMES[index % len(NAMES)],
            tags={"label": str(index)},
        )
        run_id = run.info.run_id
        acc: float | None = [0.5, math.nan, 0.25, math.inf, None, 0.5, -math.inf, 0.75][index % 8]
        metrics = [] if acc is None else [Metric("acc", acc, start, 0)]
        if index % 4 == 0:
            metrics.append(Metric("loss", float(index % 3), start, 0))
        params = [Param("lr", f"0.{index % 4}")] if index % 7 else []
        params.append(Param("kind", "x" if index % 2 else "y"))
        tags = [RunTag("group", "AbBa"[index % 4])] if index % 3 else []
        client.log_batch(run_id, metrics=metrics, params=params, tags=tags)
        if index % 5 != 1:
            status = ("FINISHED", "FAILED", "KILLED")[index % 3]
            client.set_terminated(run_id, status, end_time=start + (index % 4) * 60_000)
    return Side(client, experiment_id, other_id)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Side]:
    """``mlflow server`` on SQLite with the test's runs."""
    folder = tmp_path_factory.mktemp("mlflow-reference")
    with mlflow_server(folder) as url:
        yield _populate(client_of(url))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def ours(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Side]:
    """``runhistory server`` on SQLite or on a fresh PostgreSQL database with the same runs."""
    folder = tmp_path_factory.mktemp(f"ordered-{request.param}")
    env = {"MLFLOW_DISABLE_TELEMETRY": "true"}
    with server_on(request.param, folder, "rh_mlflow_ordered", env=env) as process:
        yield _populate(client_of(process.url))


def _pages(side: Side, experiment_ids: list[str], order: list[str], size: int,
           filter_string: str = "") -> list[Run]:  # fmt: skip
    found: list[Run] = []
    token = None
    while True:
        page = side.client.search_runs(experiment_ids, filter_string, order_by=order,
                                       max_results=size, page_token=token)  # fmt: skip
        assert len(page) <= size
        found += list(page)
        token = page.token
        if not token:
            return found


def _shown(run: Run, term: str) -> Any:
    """The value MLflow shows for one ``order_by`` term of a run."""
    text = term.rsplit(" ", 1)[0] if term.upper().endswith((" ASC", " DESC")) else term
    entity, _, key = text.partition(".") if "." in text else ("attributes", "", text)
    key = key.strip("`")
    if entity == "metrics":
        value = run.data.metrics.get(key)
        return "NaN" if value is not None and math.isnan(value) else value
    if entity == "params":
        return run.data.params.get(key)
    if entity == "tags":
        return run.data.tags.get(key)
    return getattr(run.info, key)


def _groups(runs: list[Run], order: list[str]) -> list[list[str]]:
    """Runs as their labels, in order, ties (same values for every term and the same start
    time: only the run id tells them apart, and ids differ between servers) grouped."""
    groups: list[list[str]] = []
    previous: tuple[Any, ...] | None = None
    for run in runs:
        signature = (*(_shown(run, t) for t in order), run.info.start_time)
        if signature == previous:
            groups[-1] = sorted([*groups[-1], run.data.tags["label"]])
        else:
            groups.append([run.data.tags["label"]])
        previous = signature
    return groups


@pytest.mark.parametrize("order", ORDERS, ids=lambda o: ",".join(o))
def test_pages_follow_the_unpaged_order_and_mlflows(
    ours: Side, reference: Side, order: list[str]
) -> None:
    whole = ours.client.search_runs([ours.experiment_id], order_by=order, max_results=1000)
    assert whole.token is None
    paged = _pages(ours, [ours.experiment_id], order, 3)
    assert [r.info.run_id for r in paged] == [r.info.run_id for r in whole]
    assert len({r.info.run_id for r in paged}) == len(paged) == RUNS - RUNS // 5
    theirs = reference.client.search_runs([reference.experiment_id], order_by=order,
                                          max_results=1000)  # fmt: skip
    assert _groups(list(whole), order) == _groups(list(theirs), order)
    # Within a tie, MLflow orders by run id.
    for group_start in range(len(paged) - 1):
        a, b = paged[group_start], paged[group_start + 1]
        same = all(_shown(a, t) == _shown(b, t) for t in order)
        if same and a.info.start_time == b.info.start_time:
            assert a.info.run_id < b.info.run_id


@pytest.mark.parametrize(
    ("order", "filter_string"),
    [(["metrics.acc DESC"], "params.kind = 'x'"), ([], "params.lr != '0.1'"),
     (["params.lr DESC", "attributes.start_time DESC"], "attributes.status != 'RUNNING'")],
)  # fmt: skip
def test_several_experiments_with_a_filter(
    ours: Side, reference: Side, order: list[str], filter_string: str
) -> None:
    mine = [ours.experiment_id, ours.other_id]
    whole = ours.client.search_runs(mine, filter_string, order_by=order, max_results=1000)
    paged = _pages(ours, mine, order, 2, filter_string)
    assert [r.info.run_id for r in paged] == [r.info.run_id for r in whole]
    assert len({r.info.run_id for r in paged}) == len(paged) > 0
    theirs = reference.client.search_runs(
        [reference.experiment_id, reference.other_id], filter_string, order_by=order,
        max_results=1000,
    )  # fmt: skip
    assert _groups(list(whole), order) == _groups(list(theirs), order)


def test_forged_and_foreign_tokens_are_refused(ours: Side) -> None:
    client, experiment = ours.client, [ours.experiment_id]
    first = client.search_runs(experiment, order_by=["metrics.acc DESC"], max_results=2)
    assert first.token
    forged = [
        "garbage", "12", first.token[:-3] + "AAA", first.token.replace(".", "", 1),
        "k1.W10." + first.token.rsplit(".", 1)[1],
    ]  # fmt: skip
    for token in forged:
        with pytest.raises(MlflowException) as refused:
            client.search_runs(experiment, order_by=["metrics.acc DESC"], max_results=2,
                               page_token=token)  # fmt: skip
        assert refused.value.error_code == "INVALID_PARAMETER_VALUE"
        assert refused.value.get_http_status_code() == 400
    for other in ({"order_by": ["metrics.acc ASC"]}, {"filter_string": "params.kind = 'x'"}):
        query: dict[str, Any] = {"order_by": ["metrics.acc DESC"], **other}
        with pytest.raises(MlflowException) as refused:
            client.search_runs(experiment, max_results=2, page_token=first.token, **query)
        assert refused.value.error_code == "INVALID_PARAMETER_VALUE"
    newest = client.search_runs(experiment, max_results=2)  # the default order's token
    with pytest.raises(MlflowException) as refused:
        client.search_runs(experiment, order_by=["metrics.acc DESC"], max_results=2,
                           page_token=newest.token)  # fmt: skip
    assert refused.value.error_code == "INVALID_PARAMETER_VALUE"


def test_duplicate_order_fields_are_refused(ours: Side) -> None:
    with pytest.raises(MlflowException) as refused:
        ours.client.search_runs([ours.experiment_id],
                                order_by=["metrics.acc DESC", "metrics.acc ASC"])  # fmt: skip
    assert refused.value.error_code == "INVALID_PARAMETER_VALUE"


def test_registry_searches_page_by_checked_tokens(ours: Side) -> None:
    client = ours.client
    names = [f"ordered-{c}" for c in "edcba"]
    run_id = client.create_run(client.create_experiment("ordered-models")).info.run_id
    client.log_text(run_id, "weights", "model/weights.txt")
    source = client.get_run(run_id).info.artifact_uri + "/model"
    for name in names:
        client.create_registered_model(name)
        client.create_model_version(name, source, run_id)
    seen, token = [], None
    while True:
        page = client.search_registered_models(
            "name LIKE 'ordered-%'", max_results=2, order_by=["name DESC"], page_token=token
        )
        seen += [m.name for m in page]
        token = page.token
        if not token:
            break
    assert seen == sorted(names, reverse=True)
    versions = client.search_model_versions("name LIKE 'ordered-%'", max_results=2)
    assert versions.token
    rest = client.search_model_versions("name LIKE 'ordered-%'", max_results=10,
                                        page_token=versions.token)  # fmt: skip
    assert len({v.name for v in [*versions, *rest]}) == len(names) == len([*versions, *rest])
    for forged in ("3", versions.token[:-2] + "xy"):
        with pytest.raises(MlflowException) as refused:
            client.search_model_versions("name LIKE 'ordered-%'", page_token=forged)
        assert refused.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as refused:  # a token of another search
        client.search_registered_models("name LIKE 'ordered-%'", page_token=versions.token)
    assert refused.value.error_code == "INVALID_PARAMETER_VALUE"


FILTERS = [
    "metrics.acc > 0.3", "metrics.acc != 0.5", "metrics.acc <= 0.25", "metrics.acc = 0.5",
    "metrics.acc < 0", "metrics.loss >= 1", "params.lr LIKE '0.%'", "params.lr != '0.1'",
    "params.lr IS NULL", "params.kind ILIKE 'X'", "tags.group = 'A'", "tags.group != 'A'",
    "tags.group ILIKE 'b'", "tags.group LIKE 'B'", "tags.group IS NULL",
    "tags.group IS NOT NULL", "attributes.run_name LIKE 'run-%'",
    "attributes.run_name ILIKE 'RUN-A'", "attributes.run_name != 'run-a'",
    "attributes.run_name = 'Run-b'", "attributes.run_name LIKE 'r_n-_'",
    "attributes.status = 'KILLED'", "attributes.status != 'RUNNING'",
    "attributes.status = 'FINISHED'", f"attributes.start_time > {BASE + 10_000}",
    f"attributes.start_time <= {BASE + 20_000}", f"attributes.end_time >= {BASE + 60_000}",
    "attributes.end_time != 0", "metrics.acc >= 0.25 AND params.kind = 'y' AND tags.group != 'B'",
]  # fmt: skip


@pytest.mark.parametrize("filter_string", FILTERS)
def test_ordered_searches_filter_as_mlflow_does(
    ours: Side, reference: Side, filter_string: str
) -> None:
    order = ["metrics.acc DESC", "params.lr ASC"]
    mine = [ours.experiment_id, ours.other_id]
    whole = ours.client.search_runs(mine, filter_string, order_by=order, max_results=1000)
    paged = _pages(ours, mine, order, 4, filter_string)
    assert [r.info.run_id for r in paged] == [r.info.run_id for r in whole]
    theirs = reference.client.search_runs(
        [reference.experiment_id, reference.other_id], filter_string, order_by=order,
        max_results=1000,
    )  # fmt: skip
    assert _groups(list(whole), order) == _groups(list(theirs), order)
