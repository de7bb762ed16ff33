"""Hostile and damaged files, at random: real keras-tuner projects corrupted by hypothesis.

Each example copies a real stock project (written once per session by keras-tuner itself, see
``real_searches``) to a fresh folder, damages it (truncates, replaces bytes, swaps a value's type, nests
deeply, deletes, writes huge numbers or garbage) and reads it. The reader must return a result, with a notice
naming any file it could not read, or raise a ``TuningError``; never anything else. What a result feeds
(summary, exports, importance, findings) must not fail either. The command line and zip uploads get the same
treatment. Derandomised and without a database, so every run tries the same examples.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.results.factories import add_engine_files
from tests.results.real_searches import fake_search
from tuning.analysis.anova import optuna_importance
from tuning.analysis.findings import findings
from tuning.analysis.importance import importance
from tuning.errors import TuningError
from tuning.export import summary, to_csv, to_json
from tuning.export.tables import display_table
from tuning.results import ProjectResult, load_project
from tuning.results.files import MAX_JSON_BYTES
from tuning.results.uploads import ZipLimits, extract_project_zip
from tuning.store.paths import text_too_deep, too_deep

pytestmark = pytest.mark.timeout(300)
EXAMPLES = settings(
    max_examples=60,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def stock(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real projects written by keras-tuner: a random search, a Hyperband one (on val_loss), and the random
    one with this app's ``explorer/`` files beside it (config, status, events and metrics lines)."""
    root = tmp_path_factory.mktemp("stock")
    fake_search(root, "random", "random")
    fake_search(root, "hyperband", "hyperband", objective="val_loss")
    shutil.copytree(root / "random", root / "ours")
    add_engine_files(root / "ours")
    return {name: root / name for name in ("random", "hyperband", "ours")}


def copied(source: Path, tmp_path: Path) -> Path:
    """A copy of the project ``source`` to damage, in ``tmp_path``."""
    return Path(shutil.copytree(source, tmp_path / "p"))


def json_files(project: Path) -> list[Path]:
    """The project's JSON and JSON-lines files, in a stable order (oracle.json, trial_*/trial.json...)."""
    return sorted(p for p in project.rglob("*.json*") if p.is_file())


# ----- corruptions ---------------------------------------------------------------------------------------
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**300), max_value=10**300)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
HUGE = st.sampled_from(["1e400", "-1e400", "1" * 4000, "-" + "9" * 4200, "1e-400", "NaN", "-Infinity", "1" * 5000])


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path of keys and indices into a JSON value, the root included."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _paths(item, (*prefix, i))
    return found


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    value[path[0]] = _replace(value[path[0]], path[1:], new)
    return value


def _swap(data: bytes, draw: Callable[..., Any], new: Any, *, raw: str | None = None) -> bytes:
    """The JSON text with one value (chosen at random) replaced by ``new`` (or by the text ``raw``)."""
    try:
        value = json.loads(data)
    except ValueError:
        return data
    path = draw(st.sampled_from(_paths(value)))
    marker = "\u0000hpx-marker\u0000"
    text = json.dumps(_replace(value, path, marker if raw is not None else new), allow_nan=True)
    return text.replace(json.dumps(marker), raw).encode() if raw is not None else text.encode()


@st.composite
def corruption(draw: Callable[..., Any], data: bytes) -> bytes | None:
    """New content for a file whose content is ``data`` (None: delete it)."""
    kind = draw(st.sampled_from(["truncate", "bytes", "swap", "nest", "huge", "garbage", "delete"]))
    if kind == "truncate":
        return data[: draw(st.integers(0, max(len(data) - 1, 0)))]
    if kind == "bytes":
        content = bytearray(data)
        for _ in range(draw(st.integers(1, 8))):
            if content:
                content[draw(st.integers(0, len(content) - 1))] = draw(st.integers(0, 255))
        return bytes(content)
    if kind == "swap":
        return _swap(data, draw, draw(JSON_VALUES))
    if kind == "nest":
        depth = draw(st.sampled_from([50, 200, 1000, 100_000]))  # 200: parses, but deeper than MAX_NESTING
        bracket = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        return _swap(data, draw, None, raw=bracket[0] * depth + "1" + bracket[1] * depth)
    if kind == "huge":
        return _swap(data, draw, None, raw=draw(HUGE))
    if kind == "garbage":
        return draw(st.binary(max_size=64) | st.sampled_from([b"", b"\xff\xfe\x00", b"null", b"[]", b'"x"']))
    return None


@st.composite
def damage(draw: Callable[..., Any], project: Path) -> list[tuple[str, bytes | None]]:
    """One to three (relative path, new content or None) changes to ``project``'s JSON files."""
    files = json_files(project)
    chosen = draw(st.lists(st.sampled_from(files), min_size=1, max_size=3, unique=True))
    return [(p.relative_to(project).as_posix(), draw(_damaged(p))) for p in chosen]


@st.composite
def _damaged(draw: Callable[..., Any], path: Path) -> bytes | None:
    """A file's new content: for a JSON-lines file, one of its lines damaged (or deleted)."""
    if path.suffix != ".jsonl":
        return draw(corruption(path.read_bytes()))
    lines = path.read_bytes().splitlines(keepends=True) or [b""]
    i = draw(st.integers(0, len(lines) - 1))
    line = draw(corruption(lines[i].rstrip(b"\n")))
    return b"".join([*lines[:i], *([line + b"\n"] if line is not None else []), *lines[i + 1 :]])


def apply(project: Path, changes: list[tuple[str, bytes | None]]) -> None:
    for relative, content in changes:
        path = project / relative
        if content is None:
            path.unlink()
        else:
            path.write_bytes(content)


def _read_by_us(relative: str) -> bool:
    """Whether the reader reads this file (it ignores tuner0.json and the checkpoints' files)."""
    return relative == "oracle.json" or relative.endswith("/trial.json")


def _is_json_object(content: bytes | None) -> bool:
    if content is None:  # deleted: nothing to name
        return True
    try:
        data = json.loads(content or b"")
    except (ValueError, RecursionError):
        return False
    return isinstance(data, dict) and not too_deep(data)


# ----- what must hold ------------------------------------------------------------------------------------
def use(result: ProjectResult, *, forest: bool = False) -> None:
    """What the pages and exports do with a result: none of it may fail on what the reader let in.

    ``forest``: the permutation importance too (a random forest: 0.7 s, so not in every example).
    """
    json.dumps(summary(result), allow_nan=False)
    to_csv(result)
    json.loads(to_json(result))
    display_table(result, states=list(result.trials["status"].unique()))
    optuna_importance(result, min_trials=2)
    findings(result, importances=importance(result, min_trials=2) if forest else None)


def read_damaged(source: Path, changes: list[tuple[str, bytes | None]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder) / source.name
        shutil.copytree(source, project)
        apply(project, changes)
        try:
            result = load_project(project)
        except TuningError:
            return
        unreadable = [rel for rel, content in changes if _read_by_us(rel) and not _is_json_object(content)]
        for relative in unreadable:
            assert any(relative in notice for notice in result.notices), (relative, result.notices)
        use(result)


@EXAMPLES
@given(data=st.data(), name=st.sampled_from(["random", "hyperband", "ours"]))
def test_a_damaged_project_reads_with_notices_or_raises_a_tuning_error(
    stock: dict[str, Path], data: st.DataObject, name: str
) -> None:
    read_damaged(stock[name], data.draw(damage(stock[name])))


def test_each_kind_of_damage_to_a_trial_is_named_and_the_rest_still_reads(stock: dict[str, Path]) -> None:
    source = stock["random"]
    trial = str(next(p for p in json_files(source) if p.name == "trial.json").relative_to(source))
    cases = {
        b"[" * 100_000 + b"]" * 100_000: "nested too deeply",
        b'{"a": ' + b"[" * 900 + b"]" * 900 + b"}": "nested too deeply",  # parses, but would break deepcopy
        b"": "invalid or truncated JSON",
        b'{"a": "\x80"}': "not UTF-8 text",
        b"[1, 2]": "expected a JSON object, found list",
    }
    for content, why in cases.items():
        with tempfile.TemporaryDirectory() as folder:
            project = Path(folder) / "p"
            shutil.copytree(source, project)
            (project / trial).write_bytes(content)
            result = load_project(project)
            assert f"skipped {trial}: {why}" in "\n".join(result.notices)
            assert len(result.trials) == len(load_project(source).trials) - 1


def test_wrong_types_in_a_trial_keep_the_trial_and_say_so(stock: dict[str, Path], tmp_path: Path) -> None:
    project = tmp_path / "p"
    shutil.copytree(stock["random"], project)
    path = next(p for p in json_files(project) if p.name == "trial.json")
    data = json.loads(path.read_text())
    data.update(hyperparameters=[1, 2], score="high", metrics={"metrics": [1]}, best_step="x")
    path.write_text(json.dumps(data))
    result = load_project(project)
    row = result.trials.loc[data["trial_id"]]
    assert row["score"] != row["score"]  # NaN
    use(result, forest=True)


TRIAL_PATHS = [
    ("hyperparameters",),
    ("hyperparameters", "values"),
    ("hyperparameters", "values", "lr"),
    ("hyperparameters", "values", "units"),
    ("hyperparameters", "space"),
    ("metrics", "metrics"),
    ("metrics", "metrics", "val_accuracy"),
    ("metrics", "metrics", "val_accuracy", "observations"),
    ("metrics", "metrics", "val_accuracy", "observations", 0, "value"),
    ("metrics", "metrics", "val_accuracy", "observations", 0, "step"),
    ("score",),
    ("best_step",),
    ("status",),
    ("trial_id",),
]
ORACLE_PATHS = [
    ("hyperparameters", "space"),
    ("hyperparameters", "space", 0, "config", "min_value"),
    ("hyperparameters", "space", 0, "config", "sampling"),
    ("hyperparameters", "space", 1, "config", "values"),
    ("hyperparameters", "space", 2, "config", "conditions"),
    ("hyperparameters", "space", 2, "config", "step"),
    ("start_order",),
    ("ongoing_trials",),
]
HOSTILE = ["1" * 4000, "-1e400", '"text"', "[1, [2]]", '{"a": {"b": 1}}', "null"]


def test_every_kind_of_wrong_value_where_it_hurts_most(stock: dict[str, Path], tmp_path: Path) -> None:
    """Each hostile value at each sensitive place of a trial.json and of oracle.json, one at a time."""
    source = stock["random"]
    trial = next(p for p in json_files(source) if p.name == "trial.json").relative_to(source).as_posix()
    places = [(trial, path) for path in TRIAL_PATHS] + [("oracle.json", path) for path in ORACLE_PATHS]
    for relative, path in places:
        value = json.loads((source / relative).read_text())
        for raw in HOSTILE:
            marker = "\u0000hpx\u0000"
            text = json.dumps(_replace(json.loads(json.dumps(value)), path, marker)).replace(json.dumps(marker), raw)
            read_damaged(source, [(relative, text.encode())])


def test_a_status_file_of_wrong_types_reads_with_the_defaults(stock: dict[str, Path], tmp_path: Path) -> None:
    project = tmp_path / "p"
    shutil.copytree(stock["ours"], project)
    hostile = {"state": "running", "pid": 10**400, "heartbeat": "now", "trials_done": "many", "started_at": 1e300}
    (project / "explorer" / "status.json").write_text(json.dumps(hostile | {"workers": [1], "best": 3}))
    result = load_project(project)
    assert result.status is not None and result.status["state"] == "interrupted"  # no process holds the lock
    assert (result.status["pid"], result.status["trials_done"], result.status["best"]) == (None, 0, None)
    use(result)


def test_a_file_over_the_size_cap_is_skipped_with_a_notice(
    stock: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tuning.results.files as files

    project = tmp_path / "p"
    shutil.copytree(stock["random"], project)
    trial = next(p for p in json_files(project) if p.name == "trial.json")
    monkeypatch.setattr(files, "MAX_JSON_BYTES", trial.stat().st_size - 1)
    relative = trial.relative_to(project).as_posix()
    notices = load_project(project).notices
    assert any(n.startswith(f"skipped {relative}: larger than the") and "cap per file" in n for n in notices), notices
    assert MAX_JSON_BYTES == 64 * 2**20


@pytest.mark.skipif(not hasattr(os, "mkfifo") or not Path("/dev/zero").exists(), reason="needs a FIFO and /dev/zero")
def test_a_fifo_or_a_link_to_an_endless_device_is_skipped_not_waited_on(stock: dict[str, Path], tmp_path: Path) -> None:
    project = tmp_path / "p"
    shutil.copytree(stock["random"], project)
    first, second = [p for p in json_files(project) if p.name == "trial.json"][:2]
    first.unlink()
    os.mkfifo(first)
    second.unlink()
    second.symlink_to("/dev/zero")
    notices = "\n".join(load_project(project).notices)
    assert f"skipped {first.relative_to(project).as_posix()}: not a regular file" in notices
    assert f"skipped {second.relative_to(project).as_posix()}: not a regular file" in notices


def test_lines_of_our_jsonl_files_that_are_not_records_or_too_long_are_left_out_with_a_notice(
    stock: dict[str, Path], tmp_path: Path
) -> None:
    project = copied(stock["ours"], tmp_path)
    metrics = project / "explorer" / "metrics.jsonl"
    good = load_project(project)
    with metrics.open("ab") as handle:  # a 2 MB line (over the 1 MB cap per line), garbage, a list
        handle.write(b'{"trial_id": "x", "pad": "' + b"x" * 2**21 + b'"}\n' + b"\x00\xff garbage\n[1, 2]\n")
    result = load_project(project)
    assert "explorer/metrics.jsonl: left out 3 lines that are not a JSON record or longer than 1 MB" in result.notices
    assert result.curves.equals(good.curves) and result.trials.equals(good.trials)
    use(result)


def test_a_jsonl_file_past_its_size_cap_is_read_up_to_it_and_said(
    stock: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tuning.store.paths as paths

    project = copied(stock["ours"], tmp_path)
    events = project / "explorer" / "events.jsonl"
    lines = events.read_bytes().splitlines(keepends=True)
    monkeypatch.setattr(paths, "MAX_JSONL_BYTES", len(b"".join(lines[:3])))
    result = load_project(project)
    assert "explorer/events.jsonl is larger than the 1 GB cap per file: lines past it are not read" in result.notices
    assert len(result.trials) == len(load_project(stock["ours"]).trials)  # the trials come from Keras Tuner's files
    use(result)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a FIFO")
def test_our_files_as_fifos_are_refused_not_waited_on(stock: dict[str, Path], tmp_path: Path) -> None:
    project = copied(stock["ours"], tmp_path)
    for name in ("status.json", "metrics.jsonl", "events.jsonl"):
        (project / "explorer" / name).unlink()
        os.mkfifo(project / "explorer" / name)
    result = load_project(project)  # a FIFO has size 0: the .jsonl files are not even opened
    assert result.status is not None and result.status["state"] == "created"  # as if no status was written
    assert (
        "could not read explorer/status.json (not a JSON object, over 64 MB or not a regular file): "
        "the search's state is unknown and shown as not started"
    ) in result.notices
    assert result.curves_source == "engine" and result.curves.empty
    use(result)


def _tensorboard_project(stock: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A stock project and a TensorBoard log folder beside it: one trial's run folders."""
    project = copied(stock, tmp_path)
    trial_id = json.loads(next(project.glob("trial_*/trial.json")).read_text())["trial_id"]
    run = project / "logs" / trial_id / "execution0" / "train"
    run.mkdir(parents=True)
    return project, run


def test_tensorboard_event_files_over_the_cap_are_skipped_with_a_notice(stock: dict[str, Path], tmp_path: Path) -> None:
    from tuning.results.tblogs import MAX_EVENTS_BYTES

    project, run = _tensorboard_project(stock["random"], tmp_path)
    with (run / "events.out.tfevents.1.host").open("wb") as handle:
        handle.truncate(MAX_EVENTS_BYTES + 1)  # sparse: nothing on disk, and never read
    result = load_project(project)
    assert any(
        n.startswith("TensorBoard logs unreadable:") and "over the 256 MB cap per run; not read" in n
        for n in result.notices
    ), result.notices
    assert len(result.trials) == len(load_project(stock["random"]).trials)
    use(result)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a FIFO")
def test_a_tensorboard_event_file_that_is_a_fifo_is_refused_not_waited_on(
    stock: dict[str, Path], tmp_path: Path
) -> None:
    project, run = _tensorboard_project(stock["random"], tmp_path)
    os.mkfifo(run / "events.out.tfevents.1.host")
    notices = "\n".join(load_project(project).notices)
    assert "events.out.tfevents.1.host is not a regular file; not read" in notices


# ----- the command line: a few damaged projects, one process ---------------------------------------------
def drawn_damages(source: Path, count: int) -> list[list[tuple[str, bytes | None]]]:
    """``count`` damages to ``source`` drawn by hypothesis (generation only: no replay, no shrinking)."""
    drawn: list[list[tuple[str, bytes | None]]] = []

    @settings(max_examples=count, derandomize=True, database=None, deadline=None, phases=[Phase.generate])
    @given(data=st.data())
    def collect(data: st.DataObject) -> None:
        drawn.append(data.draw(damage(source)))

    collect()
    return drawn


def test_the_command_line_prints_a_summary_or_one_error_line_never_a_traceback(
    stock: dict[str, Path], tmp_path: Path
) -> None:
    made = []
    for i, changes in enumerate(drawn_damages(stock["ours"], 12)):
        made.append(tmp_path / f"p{i}")
        shutil.copytree(stock["ours"], made[-1])
        apply(made[-1], changes)
    script = (
        "import sys\nfrom tuning.cli import main\n"
        "for i, p in enumerate(sys.argv[1:]):\n"
        "    out = str(p) + f'.{i}.out'\n"
        "    fmt = 'html' if i < 4 else 'csv'  # the report draws every figure: a few are enough\n"
        "    codes = [main(['summary', p]), main(['summary', p, '--json']), main(['export', p, '--format', fmt,"
        " '--output', out])]\n"
        "    assert all(c in (0, 2) for c in codes), (p, codes)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, *map(str, made)], cwd=ROOT, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]


# ----- uploads: random members and contents ----------------------------------------------------------------
MEMBER_NAMES = st.text(
    st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=40
) | st.sampled_from(["../x", "/etc/passwd", "a/../../b", "p/oracle.json", "p/trial_0/trial.json", "C:\\x", "a//b"])


@st.composite
def zips(draw: Callable[..., Any], stock: Path) -> bytes:
    """A zip of a real project with some members renamed, replaced or added at random."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in json_files(stock):
            name = "p/" + path.relative_to(stock).as_posix()
            content = path.read_bytes()
            if draw(st.integers(0, 5)) == 0:
                name = draw(MEMBER_NAMES)
            if draw(st.integers(0, 3)) == 0:
                content = draw(corruption(content)) or b""
            archive.writestr(name, content)
        for _ in range(draw(st.integers(0, 2))):
            archive.writestr(draw(MEMBER_NAMES), draw(st.binary(max_size=32)))
    return buffer.getvalue()


@settings(max_examples=40, derandomize=True, database=None, deadline=None)
@given(data=st.data())
def test_an_uploaded_zip_extracts_and_reads_or_raises_a_tuning_error(data: st.DataObject) -> None:
    stock = _upload_stock()
    content = data.draw(zips(stock))
    with tempfile.TemporaryDirectory() as folder:
        try:
            uploaded = extract_project_zip(content, name="up.zip", dest_root=Path(folder), limits=ZipLimits())
            results = [load_project(project) for project in uploaded.projects]
        except TuningError:
            return
        for result in results:
            use(result)


_UPLOAD_STOCK: list[Path] = []


def _upload_stock() -> Path:
    """One real project for the upload examples (hypothesis does not mix with module fixtures here)."""
    if not _UPLOAD_STOCK:
        folder = Path(tempfile.mkdtemp(prefix="hpx-upload-stock-"))
        fake_search(folder, "p", "random")
        _UPLOAD_STOCK.append(folder / "p")
    return _UPLOAD_STOCK[0]


# ----- the depth check read from the bytes -------------------------------------------------------------------
_TRICKY_TEXT = st.text(alphabet=st.sampled_from(list('ab[]{}"\\\n/é\x00')), max_size=8)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _TRICKY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TRICKY_TEXT, inner, max_size=3),
    max_leaves=40,
)


def _nested(value: Any, levels: int, kind: int) -> Any:
    for i in range(levels):
        value = [value] if (kind >> (i % 8)) & 1 else {"k": value}
    return value


@settings(max_examples=300, deadline=None)
@given(value=_JSON, levels=st.integers(0, 70), kind=st.integers(0, 255), limit=st.integers(1, 64))
def test_the_depth_read_from_the_bytes_agrees_with_walking_the_parsed_value(
    value: Any, levels: int, kind: int, limit: int
) -> None:
    document = {"v": _nested(value, levels, kind)}  # a file holds an object
    for text in (json.dumps(document), json.dumps(document, ensure_ascii=False), json.dumps(document, indent=1)):
        quick = text_too_deep(text.encode("utf-8"), limit)
        assert quick is None or quick == too_deep(json.loads(text), limit), text
    assert text_too_deep(json.dumps(document).encode("utf-16"), limit) is None  # not UTF-8: walked instead


def test_the_depth_read_from_the_bytes_decides_a_real_trial_file_and_a_hostile_one(stock: dict[str, Path]) -> None:
    trial = next(p for p in json_files(stock["random"]) if p.name == "trial.json").read_bytes()
    assert text_too_deep(trial) is False
    assert text_too_deep(b'{"a": ' + b"[" * 65 + b"]" * 65 + b"}") is True
    assert text_too_deep(b'{"a": ' + b"[" * 63 + b"]" * 63 + b"}") is False
    assert text_too_deep(b'{"a": "[[[", "b": []}') is None  # a bracket in a string: the value is walked
