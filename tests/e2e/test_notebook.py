"""examples/notebooks/pyhost_tour.ipynb, executed by a real Jupyter kernel (ipykernel, driven by
nbclient): every cell runs without an error and shows what it should (compare's tables and
reports, run's streamed output, the fitted serial fraction, the kernel's pi); its HTML export
(nbconvert) shows the reports' charts in headless Chromium.

The kernel is this test's python (the project venv) with the checkout's runtime on its path and
the pyhost under test as PYHOST_EXE. Its kernel spec is written to a temporary folder, and every
JUPYTER_* / IPYTHONDIR folder points into it: a user's kernels, config and IPython profile are
never read."""
import json
import os
import pathlib
import sys

import pytest

from browser_testing import browser, chromium, decode_png, pixels
from pyhost_testing import REPO, pyhost_bin, run_pyhost

nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed (requirements-dev.txt)")
nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed (requirements-dev.txt)")
pytest.importorskip("ipykernel", reason="ipykernel is not installed (requirements-dev.txt)")

NOTEBOOK = REPO / "examples" / "notebooks" / "pyhost_tour.ipynb"
KERNEL = "pyhost-test"
# The threads mode's colour in compare's charts (host/plan/modes.cpp): a timeline's bar is solid
# in it while a thread holds the GIL (pale while it waits). No code or text of the notebook uses it.
THREADS_COLOUR = (0xd6, 0x27, 0x28)


def private_jupyter(root, env):
    """Point Jupyter and IPython at folders under root and write the kernel spec there."""
    for variable, folder in (("JUPYTER_PATH", "share"), ("JUPYTER_DATA_DIR", "data"),
                             ("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                             ("IPYTHONDIR", "ipython")):
        (root / folder).mkdir(parents=True, exist_ok=True)
        env.setenv(variable, str(root / folder))
    env.setenv("JUPYTER_PLATFORM_DIRS", "0")
    spec = root / "share" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    paths = [str(REPO / "runtime")] + [p for p in os.environ.get("PYTHONPATH", "").split(":") if p]
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "pyhost under test", "language": "python",
        "env": {"PYTHONPATH": ":".join(paths), "PYHOST_EXE": pyhost_bin(),
                "PYTHONNOUSERSITE": "1", "PYHOST_KERNEL_CACHE": str(root / "kernel-cache")},
    }))


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    root = tmp_path_factory.mktemp("jupyter")
    with pytest.MonkeyPatch.context() as env:
        private_jupyter(root, env)
        nb = nbformat.read(NOTEBOOK, as_version=4)
        client = nbclient.NotebookClient(nb, timeout=240, kernel_name=KERNEL,
                                         resources={"metadata": {"path": str(root)}})
        client.execute()
    return nb, root


def code_cells(nb):
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def text_of(cell, name="stdout"):
    return "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == name)


def html_of(cell):
    return "".join(o.data.get("text/html", "") for o in cell.outputs
                   if o.output_type in ("execute_result", "display_data"))


def cell_starting(nb, first_line):
    found = [c for c in code_cells(nb) if c.source.splitlines()[0].startswith(first_line)]
    assert found, f"no cell starts with {first_line!r}"
    return found


def test_the_committed_notebook_has_no_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    assert all(not c.outputs and c.execution_count is None for c in code_cells(nb))


def test_every_cell_runs_without_an_error(executed):
    nb, _ = executed
    for cell in code_cells(nb):
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors, f"{cell.source[:80]!r}: {errors[0].ename}: {errors[0].evalue}"
        assert cell.execution_count is not None


def test_compare_cells_show_the_table_and_the_report(executed):
    nb, _ = executed
    cells = cell_starting(nb, "%%pyhost compare")
    assert len(cells) == 4
    for cell in cells:
        table = text_of(cell)
        assert "mode " in table and "speedup" in table and "\nserial " in table, cell.source[:80]
        report = html_of(cell)
        assert report.startswith('<iframe class="pyhost-report"')
        assert "speedup-chart" in report and "timeline chart" in report


def test_run_cells_stream_the_tasks_output(executed):
    nb, _ = executed
    sub, proc = cell_starting(nb, "%%pyhost run --mode")
    for cell, mode in ((sub, "subinterpreters"), (proc, "processes")):
        out = text_of(cell)
        assert all(f"[task {k}] task {k}: worker " in out for k in range(4)), out
        assert f"4/4 tasks ok" in text_of(cell, "stderr")
        assert '<table class="pyhost-tasks"' in html_of(cell) and f"{mode}, 2 workers" in html_of(cell)
    # Sub-interpreters share one process; processes mode has one per worker.
    pids = {line.split("process ")[1].split(",")[0] for line in text_of(sub).splitlines()}
    assert len(pids) == 1
    pids = {line.split("process ")[1].split(",")[0] for line in text_of(proc).splitlines()}
    assert len(pids) == 2


def test_api_cells_print_what_compare_measured(executed):
    nb, _ = executed
    (own_gil,) = cell_starting(nb, "cpu_bound = ")
    rows = text_of(own_gil).splitlines()
    assert [r.split()[:2] for r in rows] == [["serial", "-j1"], ["subinterpreters", "-j1"],
                                             ["subinterpreters", "-j2"], ["processes", "-j1"],
                                             ["processes", "-j2"]]
    assert all("memory per worker" in r for r in rows)


def test_the_freethreaded_cell_follows_pyhost_info(executed):
    nb, _ = executed
    (cell,) = cell_starting(nb, "from IPython.display import display")
    info = json.loads(run_pyhost(["info", "--json"], check=True).stdout)
    if info.get("freethreaded_companion") or info.get("free_threaded"):
        assert "\nfreethreaded " in text_of(cell) and "speedup-chart" in html_of(cell)
    else:
        assert text_of(cell).startswith("no free-threaded companion here")


def test_amdahl_cell_reads_the_fitted_fraction_from_underscore(executed):
    nb, _ = executed
    (cell,) = cell_starting(nb, "amdahl = _")
    out = text_of(cell)
    assert out.startswith("fitted serial fraction: "), out
    fitted = float(out.split(": ")[1].split()[0])
    assert fitted > 0  # its value depends on the machine's load: the lesson, not a target


def test_the_kernel_cell_estimates_pi_on_the_cpu(executed):
    nb, root = executed
    (cell,) = [c for c in code_cells(nb) if c.source.splitlines()[0] == "%%pyhost run"]
    out = text_of(cell)
    assert out.startswith("pi ~ 3.1"), out
    assert " on cpu " in out or " on cuda " in out
    assert any((root / "kernel-cache").iterdir()), "the kernel was not compiled into the cache"


@pytest.mark.skipif(chromium() is None, reason="chromium is not installed (Debian package "
                                                "`chromium`; .ci/setup-tests installs it)")
def test_the_html_export_shows_the_charts(executed, tmp_path):
    from nbconvert import HTMLExporter

    nb, _ = executed
    page = tmp_path / "pyhost_tour.html"
    page.write_text(HTMLExporter().from_notebook_node(nb)[0], encoding="utf-8")
    # Every report is in the export, each inside its own iframe (4 compare cells, and the
    # free-threaded one where the companion exists).
    assert page.read_text(encoding="utf-8").count('<iframe class="pyhost-report"') >= 4
    # Offline (the export links require.js and MathJax on a CDN); at a scale of one half, so that
    # a screenshot 8000 CSS pixels tall (the first two reports, of threads) decodes in seconds.
    shot = tmp_path / "tour.png"
    done = browser([f"--screenshot={shot}", "--window-size=1200,8000",
                    "--force-device-scale-factor=0.5", "--host-resolver-rules=MAP * ~NOTFOUND",
                    page.as_uri()], tmp_path)
    assert shot.exists(), done.stderr
    decoded = decode_png(shot.read_bytes())
    assert decoded[:2] == (600, 4000)
    bars = ink = sampled = 0
    for pixel in pixels(decoded, step=2):
        sampled += 1
        ink += min(pixel) < 200
        bars += all(abs(a - b) <= 8 for a, b in zip(pixel, THREADS_COLOUR))
    assert ink > 0.02 * sampled, f"screenshot nearly blank: {ink} of {sampled} sampled pixels"
    # The threads' bars of the reports' timelines: the iframes were drawn, charts and all.
    assert bars > 100, f"{bars} pixels of the threads' bars"
