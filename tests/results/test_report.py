"""``naga report``: one HTML file, checked as written and as a browser shows it.

The numbers are checked against ``naga ls --group-by`` and ``naga plot --json`` run on
the same runs, and against values computed here from the app's formula. The browser tests
open the file from ``file://`` in Debian's headless Chromium with the network cut off
(tests/browser.py); they are skipped, saying why, where chromium is not installed (CI
installs it through scripts/setup-system.sh).
"""

from __future__ import annotations

import json
import math
import re
import statistics
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from browser import CHROMIUM, Browser
from helpers import git
from results_lab import LRS, SEEDS, Lab, loss_of

needs_browser = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Debian's chromium is not installed (bash scripts/setup-system.sh installs it)",
)
XSS = "<img src=x onerror=alert(1)>"


def document_of(page: Path) -> dict[str, Any]:
    """The JSON document a report embeds, nan/inf restored."""
    text = page.read_text(encoding="utf-8")
    found = re.search(r"<script type='application/json' id='naga-data'>(.*?)</script>", text, re.S)
    assert found, "no data element"

    def revive(value: dict[str, Any]) -> Any:
        return float(value["nonfinite"]) if set(value) == {"nonfinite"} else value

    return json.loads(found.group(1), object_hook=revive)


def report(lab: Lab, *args: str, out: str = "report.html") -> Path:
    result = lab.naga("report", *args, "-o", out)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith(f"wrote {out}: ")
    return lab.root / out


def g6(value: Any) -> str:
    """How naga ls's table shows a number."""
    if value is None:
        return "-"
    return f"{value:.6g}" if isinstance(value, float) else str(value)


@pytest.fixture(scope="module")
def lab_page(lab: Lab) -> Path:
    return report(lab, "results", out="lab report.html")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    """A lab with a receipt value that is HTML, a failed run, and uncommitted code."""
    from results_lab import APPS, new_lab

    base = tmp_path_factory.mktemp("hostile lab")
    lab = new_lab(base / "lab", base / "home")
    (lab.root / "crash.py").write_text((APPS / "crash.py").read_text())  # untracked: dirty
    lab.python("train.py", "-m", "lr=0.1,0.3", "seed=0,1", f"optimizer='{XSS}'")
    failed = lab.python("crash.py", "fail=true", "note='<b>bold</b>'", check=False)
    assert failed.returncode != 0
    # A sweep whose runs record `value` (the objective, as Optuna names it): trials.
    lab.python("score.py", "-m", "split=test,val", "save_dir=results/study")
    # A receipt left `running` by a process that is gone (it records none): lost.
    gone = lab.root / "results" / "gone" / "run.lock"
    gone.parent.mkdir(parents=True)
    gone.write_text("naga_lock: 1\nrun_id: gone\nstatus: running\nconfig: {note: x}\n")
    return lab


# ---------------------------------------------------------------------------- the file


def test_grouped_numbers_equal_naga_ls_group_by(lab: Lab, lab_page: Path) -> None:
    doc = document_of(lab_page)
    groups = doc["groups"]
    # The default: every varying config key but the seed, script first (two scripts).
    assert groups["by"] == ["script", "config.lr"]
    assert groups["seed_keys"] == ["config.seed"]
    assert groups["ls"][:3] == ["naga", "ls", "results"]
    assert groups["ls"][3:] == ["--group-by", "script,lr"]
    ls = json.loads(lab.naga(*groups["ls"][1:], "--format", "json").stdout)
    assert len(ls) == len(groups["rows"]) == 4
    for mine, theirs in zip(groups["rows"], ls, strict=True):
        assert mine["values"] == [theirs["script"], theirs["config.lr"]]
        assert mine["runs"] == theirs["runs"]
        for metric, stats in mine["stats"].items():
            count, mean, std, _, low, high, _ = stats
            assert [count, mean, std, low, high] == [
                theirs[f"{metric}.{name}"] for name in ("count", "mean", "std", "min", "max")
            ]
    # And the numbers are right, from the app's own formula.
    train = {tuple(g["values"]): g for g in groups["rows"]}
    for lr in LRS:
        losses = [loss_of(lr, seed) for seed in SEEDS]
        count, mean, std, ci, low, high, best = train[("train.py", lr)]["stats"]["metrics.loss"]
        assert count == 3 and mean == pytest.approx(statistics.mean(losses))
        assert std == pytest.approx(statistics.stdev(losses))
        assert ci == pytest.approx(4.302652729749464 * statistics.stdev(losses) / math.sqrt(3))
        assert (low, high) == (min(losses), max(losses))
        run = doc["runs"][best][doc["columns"].index("run")]
        assert run == f"results/train/lr={lr},seed=0"  # loss is minimized: seed 0 is best
        acc = train[("train.py", lr)]["stats"]["metrics.val.acc"]
        assert doc["runs"][acc[6]][doc["columns"].index("config.seed")] == 0  # acc: highest


def test_charts_hold_the_numbers_of_naga_plot_json(lab: Lab, lab_page: Path) -> None:
    doc = document_of(lab_page)
    plots = {(p["x"], p["y"], p["hue"]): p for p in doc["plots"]}
    assert ("config.lr", "metrics.loss", None) in plots
    for (x, y, _), mine in plots.items():
        theirs = json.loads(lab.naga("plot", "results", "--x", x, "--y", y, "--json").stdout)
        assert {k: v for k, v in mine.items() if k != "logx"} == theirs
    [parallel] = doc["parallel"]
    assert parallel["script"] == "train.py" and len(parallel["members"]) == 9
    assert parallel["axes"] == ["config.lr", "metrics.val.acc", "metrics.steps", "metrics.loss"]


def test_chosen_axes_hue_and_grouping(lab: Lab) -> None:
    page = report(
        lab, "results", "--where", "script=train.py", "--group-by", "lr,seed",
        "--x", "seed", "--y", "loss", "--hue", "lr", "--maximize", "loss",
    )  # fmt: skip
    doc = document_of(page)
    assert doc["groups"]["by"] == ["config.lr", "config.seed"]
    assert len(doc["groups"]["rows"]) == 9
    assert doc["groups"]["directions"]["metrics.loss"] == "max"
    [plot] = doc["plots"]
    theirs = lab.naga(
        "plot", "results", "--where", "script=train.py", "--x", "seed", "--y", "loss",
        "--hue", "lr", "--json",
    )  # fmt: skip
    assert {k: v for k, v in plot.items() if k != "logx"} == json.loads(theirs.stdout)
    assert [line["hue"] for line in plot["series"]] == list(LRS)
    assert doc["meta"]["where"] == ["script=train.py"]
    assert "--group-by lr,seed" in doc["meta"]["command"]


def test_the_file_fetches_nothing(lab_page: Path) -> None:
    """No script, style, font or image comes from anywhere but the file itself."""

    class Refs(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.refs: list[str] = []
            self.tags: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.tags.append(tag)
            self.refs += [
                f"{tag} {name}={value}" for name, value in attrs if name in ("src", "href")
            ]

    text = lab_page.read_text(encoding="utf-8")
    parser = Refs()
    parser.feed(text)
    # Links are only the page's own anchors; no element loads anything.
    assert all(ref.split("=", 1)[1].startswith("#") for ref in parser.refs), parser.refs
    assert "link" not in parser.tags and "img" not in parser.tags and "iframe" not in parser.tags
    styles = "".join(re.findall(r"<style>(.*?)</style>", text, re.S))
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", styles)
    assert "@import" not in styles and "@font-face" not in styles
    assert "sourceMappingURL" not in text
    assert "default-src 'none'" in text  # and the page says so to the browser


def test_summary_cards_and_provenance(lab: Lab, lab_page: Path) -> None:
    import naga

    doc = document_of(lab_page)
    meta = doc["meta"]
    assert meta["naga_version"] == naga.__version__
    assert meta["roots"] == [str(lab.root / "results")]
    assert meta["command"] == "naga report results -o 'lab report.html'"
    summary = doc["summary"]
    assert summary["runs"] == 10 and summary["statuses"] == {"completed": 10}
    assert sorted(s["runs"] for s in summary["studies"]) == [1, 9]
    head = (lab.root / ".git" / "refs" / "heads" / "main").read_text().strip()
    tree = git(lab.root, "rev-parse", "HEAD^{tree}").strip()
    assert summary["codes"] == [[f"tree:{tree}", 10]]  # naga ls's code column
    assert summary["warnings"] == [] and summary["failed"] == []
    floats = dict(zip(doc["columns"], doc["floats"], strict=True))
    assert floats["metrics.loss"] and floats["config.lr"]
    assert not floats["config.seed"] and not floats["metrics.steps"] and not floats["run"]
    run = doc["columns"].index("run")
    index = next(i for i, r in enumerate(doc["runs"]) if r[run] == "results/train/lr=0.1,seed=2")
    card = doc["cards"][index]
    assert card["launcher"] == "basic" and card["host"]
    assert card["command"] == "train.py -m lr=0.01,0.1,0.3 seed=0,1,2"
    assert card["repos"][0]["commit"] == head and card["repos"][0]["dirty"] is False


def test_failed_dirty_and_hostile_runs(hostile: Lab) -> None:
    page = report(hostile, "results")
    text = page.read_text(encoding="utf-8")
    assert XSS not in text and "<b>bold" not in text  # only ever inside escaped JSON
    doc = document_of(page)
    run = doc["columns"].index("run")
    crash = next(i for i, r in enumerate(doc["runs"]) if r[run] == "results/crash")
    lost = next(i for i, r in enumerate(doc["runs"]) if r[run] == "results/gone")
    assert doc["runs"][lost][doc["columns"].index("status")] == "lost"
    assert sorted(doc["summary"]["failed"]) == sorted([crash, lost])
    assert doc["summary"]["statuses"]["lost"] == 1
    card = doc["cards"][crash]
    assert card["error"]["type"] == "ValueError"
    assert card["error"]["line"] == "diverged at step 3 (<b>bold</b>)"
    [repo] = card["repos"]
    assert repo["dirty"] and repo["changed"] == ["A crash.py"]
    assert doc["codes"][crash] == f"tree:{repo['snapshot_tree']}"
    optimizer = doc["columns"].index("config.optimizer")
    assert {r[optimizer] for r in doc["runs"]} == {XSS, None}
    [study] = doc["trials"]
    assert study["objective"] == "metrics.value" and study["goal"] == "min"
    assert study["values"] == [0.75, 0.5] and study["best"] == [0.75, 0.5]


def test_runs_of_one_group_differing_in_code_are_flagged(make_lab) -> None:
    lab = make_lab()
    lab.python("train.py", "lr=0.1", "seed=0", "save_dir=results/a")
    (lab.root / "train.py").write_text((lab.root / "train.py").read_text() + "\n# edited\n")
    lab.python("train.py", "lr=0.1", "seed=1", "save_dir=results/b")
    doc = document_of(report(lab, "results"))
    [group] = doc["groups"]["rows"]
    assert group["warnings"] == ["code differs: 2 versions"]
    assert doc["summary"]["warnings"] == ["group script=train.py: code differs: 2 versions"]


# ---------------------------------------------------------------------------- units


def test_t_quantile_matches_the_tables() -> None:
    from naga.results.report.stats import ci95_half_width, t_quantile

    # Two-sided 95% critical values of Student's t (any statistics textbook's table).
    table = {1: 12.7062, 2: 4.3027, 3: 3.1824, 4: 2.7764, 9: 2.2622, 29: 2.0452, 120: 1.9799}
    for df, value in table.items():
        assert t_quantile(0.975, df) == pytest.approx(value, abs=1e-4)
    assert ci95_half_width(1, None) is None
    assert ci95_half_width(3, 0.0) == 0.0
    assert math.isnan(ci95_half_width(2, math.nan))  # type: ignore[arg-type]


def test_default_grouping_rule_and_directions() -> None:
    from naga.results.report.groups import default_group_by, directions, seed_like

    rows = [
        {"script": "t.py", "config.lr": lr, "config.seed": s, "config.data.seed": s,
         "config.save_dir": f"r/{lr},{s}", "config.epochs": 10}
        for lr in (0.1, 0.2) for s in (0, 1)
    ] + [{"script": "prep.py", "config.n": 5, "config.save_dir": "p"}]  # fmt: skip
    columns = list(dict.fromkeys(k for row in rows for k in row))
    seeds = seed_like(columns)
    assert seeds == ["config.seed", "config.data.seed"]
    assert default_group_by(rows, columns, seeds) == ["script", "config.lr"]
    assert default_group_by(rows[:4], columns, []) == [
        "config.lr",
        "config.seed",
        "config.data.seed",
    ]
    goals = directions(
        ["metrics.val_loss", "metrics.acc", "metrics.train_mse", "metrics.value", "metrics.power"],
        minimize=[], maximize=["metrics.value"],
    )  # fmt: skip
    assert goals == {
        "metrics.val_loss": "min", "metrics.acc": "max", "metrics.train_mse": "min",
        "metrics.value": "max", "metrics.power": "max",
    }  # fmt: skip


def test_data_json_cannot_end_its_element() -> None:
    from naga.results.report.page import data_json

    text = data_json({"v": "</script><script>alert(1)</script>", "w": "a\u2028b & <!--"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"v": "</script><script>alert(1)</script>", "w": "a\u2028b & <!--"}


def test_trials_best_so_far() -> None:
    from naga.results.report.charts import trials

    rows = [
        {"sweep": "s", "started_at": f"2026-01-0{i + 1}", "metrics.value": v}
        for i, v in enumerate([3.0, 1.0, 2.0, 0.5])
    ]
    [study] = trials(rows, objective="metrics.value", goal="min")
    assert study["values"] == [3.0, 1.0, 2.0, 0.5] and study["best"] == [3.0, 1.0, 1.0, 0.5]
    [study] = trials(rows, objective="metrics.value", goal="max")
    assert study["best"] == [3.0, 3.0, 3.0, 3.0]


# ---------------------------------------------------------------------------- the browser


@needs_browser
@pytest.mark.browser
def test_the_page_in_a_browser(lab: Lab, lab_page: Path, tmp_path: Path) -> None:
    with Browser(tmp_path) as browser:
        browser.open(lab_page.as_uri())
        # Charts draw as they come into view: scroll to each, as a reader does.
        charts = browser.js("document.querySelectorAll('#charts .chart').length")
        assert charts == 1 + len(document_of(lab_page)["plots"])  # + parallel coordinates
        for k in range(charts):
            chart = f"document.querySelectorAll('#charts .chart')[{k}]"
            browser.js(f"{chart}.scrollIntoView()")
            browser.wait_for(f"{chart}.dataset.drawn === 'true'")
        browser.drain(1.0)
        assert browser.errors() == []
        assert [u for u in browser.requests() if not u.startswith(("file:", "data:"))] == []
        # Charts drawn: Plotly's SVG for each plot, WebGL canvases for parallel coordinates.
        doc = document_of(lab_page)
        assert browser.js("document.querySelectorAll('#charts .plot .main-svg').length") >= len(
            doc["plots"]
        )
        assert browser.js("document.querySelectorAll('#charts .parcoords canvas').length") >= 1
        traces = "document.querySelectorAll('#charts .plot .scatterlayer .trace').length"
        assert browser.js(traces) >= sum(len(p["series"]) for p in doc["plots"])

        # The grouped table shows naga ls --group-by's numbers, as naga ls's table prints them.
        ls = json.loads(lab.naga(*doc["groups"]["ls"][1:], "--format", "json").stdout)
        shown = browser.js(
            "[...document.querySelectorAll('#group-table .tabulator-row')].map("
            "r => [...r.querySelectorAll('.tabulator-cell')].map(c => c.textContent.trim()))"
        )
        assert len(shown) == len(ls)
        metrics = doc["groups"]["metrics"]
        for cells, theirs in zip(shown, ls, strict=True):
            assert cells[0] == theirs["script"] and cells[1] == g6(theirs["config.lr"])
            assert cells[2] == str(theirs["runs"])
            for m, metric in enumerate(metrics):
                at = 3 + m * 7  # count, mean, std, ci, min, max, best per metric
                expected = [g6(theirs[f"{metric}.{s}"]) for s in ("count", "mean", "std")]
                assert cells[at : at + 3] == expected, metric
                assert cells[at + 4 : at + 6] == [
                    g6(theirs[f"{metric}.min"]),
                    g6(theirs[f"{metric}.max"]),
                ]

        # The page writes numbers as naga ls does (Python's %.6g), whatever their size.
        values = [0.1, 1 / 3, 2.11817e-06, 1e-4, 9.99999e-5, 123456.7, 1234567.0, -0.000123,
                  1e21, 2.5e-300, 100.0, 0.0, -1.5, 5e-324, 1.7976931348623157e308]  # fmt: skip
        shown_values = browser.js(f"{json.dumps(values)}.map(window.nagaReport.fmtG)")
        assert shown_values == [f"{v:.6g}" for v in values]
        special = browser.js("[NaN, Infinity, -Infinity].map(window.nagaReport.fmtG)")
        assert special == ["nan", "inf", "-inf"]
        mixed = browser.js("[3, 0.5, 'adam', true, null].map(window.nagaReport.show)")
        assert mixed == ["3", "0.5", "adam", "true", "-"]

        # Filtering in the page changes the rows shown.
        def rows(table: str) -> int:
            return browser.js(f"document.querySelectorAll('#{table} .tabulator-row').length")

        def expect_rows(table: str, count: int) -> None:
            # Redrawing a table may take a frame or two on a loaded machine.
            query = f"document.querySelectorAll('#{table} .tabulator-row').length === {count}"
            try:
                browser.wait_for(query, timeout=15)
            except AssertionError:
                assert rows(table) == count

        def type_into(box: str, text: str) -> None:
            browser.js(
                f"(() => {{ const i = document.getElementById('{box}');"
                f" i.value = {json.dumps(text)}; i.dispatchEvent(new Event('input')); }})()"
            )
            browser.drain(0.3)

        type_into("group-filter", "lr>=0.1")
        expect_rows("group-table", 2)
        type_into("group-filter", "lrr>=0.1")
        assert browser.js("document.querySelector('#groups .filter-note').textContent") == (
            "unknown column 'lrr'"
        )
        type_into("group-filter", "")
        expect_rows("group-table", 4)
        expect_rows("run-table", 10)
        # Brushing the parallel coordinates filters the runs table (lr is the first axis).
        parcoords = "document.querySelector('#charts .parcoords .plot')"

        def brush(lr_range: str) -> None:
            update = f"{{'dimensions[0].constraintrange': [{lr_range}]}}"
            browser.js(f"Plotly.restyle({parcoords}, {update}).then(() => 1)")
            browser.drain(0.3)

        brush("[0.2, 0.4]")
        expect_rows("run-table", 3)  # lr=0.3, three seeds
        note = browser.js("document.querySelector('.brush-note').textContent")
        assert "3 runs inside the selected ranges" in note
        brush("null")
        expect_rows("run-table", 10)
        type_into("run-filter", "seed=0")
        expect_rows("run-table", 3)
        type_into("run-filter", "seed=0 loss<0.005")
        expect_rows("run-table", 1)
        assert browser.js("document.querySelector('#run-table .run-link').textContent") == (
            "results/train/lr=0.1,seed=0"
        )

        # A group expands to its runs; a run opens its card; cards link upstream/downstream.
        browser.js("document.querySelector('#group-table .tabulator-data-tree-control').click()")
        browser.drain(0.3)
        expect_rows("group-table", 4 + 1)  # the score group holds one run
        browser.js("document.querySelector('#run-table .run-link').click()")
        browser.wait_for("document.getElementById('card').innerText.includes('launcher')")
        card = browser.js("document.getElementById('card').innerText")
        assert "results/train/lr=0.1,seed=0" in card and "launcher" in card
        assert browser.errors() == []


@needs_browser
@pytest.mark.browser
def test_hostile_values_stay_text_in_the_browser(hostile: Lab, tmp_path: Path) -> None:
    page = report(hostile, "results")
    doc = document_of(page)
    with Browser(tmp_path) as browser:
        browser.open(page.as_uri())
        run = doc["columns"].index("run")
        crash = next(i for i, r in enumerate(doc["runs"]) if r[run] == "results/crash")
        hostile_run = next(
            i for i, r in enumerate(doc["runs"]) if r[run].startswith("results/train")
        )
        browser.js(f"location.hash = '#run-{hostile_run}'")
        browser.wait_for(f"document.getElementById('card-{hostile_run}') !== null")
        assert XSS in browser.js("document.getElementById('card').textContent")
        assert XSS in browser.js("document.getElementById('run-table').textContent")
        browser.js(f"location.hash = '#run-{crash}'")
        browser.wait_for(f"document.getElementById('card-{crash}') !== null")
        card = browser.js("document.getElementById('card').textContent")
        assert "ValueError: diverged at step 3 (<b>bold</b>)" in card
        assert "A crash.py" in card  # the file the uncommitted snapshot adds
        summary = browser.js("document.getElementById('summary').textContent")
        assert "2 runs did not complete" in summary and "diverged at step 3" in summary
        assert browser.js("document.querySelectorAll('#failed-runs .status-lost').length") == 1
        # Every chart draws, the objective by trial among them.
        browser.js("window.nagaReport.drawCharts()")
        browser.wait_for(
            "document.querySelectorAll('#charts .chart:not([data-drawn])').length === 0"
        )
        assert "Objective by trial" in browser.js("document.getElementById('charts').textContent")
        assert browser.js("document.querySelectorAll('#charts .chart.wide .main-svg').length") >= 1
        # No element, no handler, no dialog came out of a value.
        assert browser.js("document.querySelectorAll('img, b, [onerror]').length") == 0
        assert browser.dialogs() == []
        assert browser.errors() == []
        assert [u for u in browser.requests() if not u.startswith(("file:", "data:"))] == []


@needs_browser
@pytest.mark.browser
def test_cards_of_runs_that_did_not_complete_are_marked(hostile: Lab, tmp_path: Path) -> None:
    """The page takes those runs from the document (naga.lock.status.BAD), not a copy."""
    page = report(hostile, "results")
    doc = document_of(page)
    marked = []
    with Browser(tmp_path) as browser:
        browser.open(page.as_uri())
        for i in range(len(doc["runs"])):
            browser.js(f"location.hash = '#run-{i}'")
            browser.wait_for(f"document.getElementById('card-{i}') !== null")
            if browser.js(f"document.getElementById('card-{i}').classList.contains('card-failed')"):
                marked.append(i)
        assert browser.errors() == []
    assert doc["summary"]["failed"] and marked == sorted(doc["summary"]["failed"])


def test_a_report_parses_each_receipt_once_and_then_never(
    make_lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import time

    from naga.results.report import cards as cards_module
    from naga.results.report.build import Options, build

    lab = make_lab()
    lab.python("train.py", "-m", "lr=0.1,0.3", "seed=0")
    monkeypatch.setenv("NAGA_CACHE_DIR", lab.env["NAGA_CACHE_DIR"] + "-empty")
    monkeypatch.chdir(lab.root)
    parsed: list[str] = []
    real = cards_module._read

    def counting(path: Path, skipped: tuple[str, ...]) -> dict[str, Any]:
        parsed.append(Path(path).parent.name)
        return real(path, skipped)

    monkeypatch.setattr(cards_module, "_read", counting)
    time.sleep(2.2)  # older than the index's racy window: rows and cards may be kept
    first = build(["results"], Options())
    assert sorted(parsed) == ["lr=0.1", "lr=0.3"]  # once each, for its row and its card
    assert build(["results"], Options())["cards"] == first["cards"]
    assert len(parsed) == 2  # nothing parsed again
    lock = lab.root / "results" / "train" / "lr=0.1" / "run.lock"
    lock.write_text(lock.read_text().replace("host: ", "host: elsewhere-"))
    again = build(["results"], Options())
    assert parsed[2:] == ["lr=0.1"]
    run = again["columns"].index("run")
    index = [r[run] for r in again["runs"]].index(os.path.join("results", "train", "lr=0.1"))
    assert again["cards"][index]["host"].startswith("elsewhere-")
