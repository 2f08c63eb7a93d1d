"""What `pyhost.compare()`, `pyhost.run()` and `pyhost.info()` return: the JSON that pyhost wrote,
read as a mapping (`r["results"]`) or by attribute (`r.results[0].speedup`), with a text repr for
terminals and an HTML one (`_repr_html_`) for notebooks."""
import collections.abc
import json

from . import _html


def _wrap(value):
    if isinstance(value, dict):
        return JsonView(value)
    if isinstance(value, list):
        return [_wrap(item) for item in value]
    return value


class JsonView(collections.abc.Mapping):
    """A read-only view of a JSON object: keys as items and as attributes; nested objects are
    views too. `.json` is the plain dict."""

    def __init__(self, data):
        self.json = data

    def __getitem__(self, key):
        return _wrap(self.json[key])

    def __iter__(self):
        return iter(self.json)

    def __len__(self):
        return len(self.json)

    def __getattr__(self, name):
        if name.startswith("_") or name == "json":
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"{type(self).__name__} has no field {name!r} "
                                 f"(fields: {', '.join(self.json)})") from None

    def __dir__(self):
        return sorted(set(super().__dir__()) | {k for k in self.json if k.isidentifier()})

    def __repr__(self):
        return json.dumps(self.json, indent=1, ensure_ascii=False)


def _fmt(value, spec, missing="—"):
    return missing if value is None else format(value, spec)


class CompareResult(JsonView):
    """`pyhost compare`'s --json document. Also: `html` (the self-contained report of --html),
    `text` (the table, explanations and timelines it printed), `stderr`, `argv`."""

    def __init__(self, data, *, html, text, stderr, argv):
        super().__init__(data)
        self.html = html
        self.text = text
        self.stderr = stderr
        self.argv = argv

    def table(self):
        """The main columns of the table, one line per configuration."""
        rows = [f"{'mode':<16} {'workers':>7} {'median s':>9} {'speedup':>13} {'efficiency':>10} "
                f"{'CPU util':>8} {'GIL wait':>8}"]
        for r in self.json["results"]:
            speedup = _fmt(r.get("speedup"), ".2f") + "x"
            if r.get("speedup_err") is not None and r["mode"] != "serial":
                speedup += " ± " + format(r["speedup_err"], ".2f")
            gil = r.get("gil_wait")
            rows.append(f"{r['mode']:<16} {r['workers']:>7} {_fmt(r.get('median_s'), '.3f'):>9} "
                        f"{speedup:>13} {_fmt(r.get('efficiency'), '.0%'):>10} "
                        f"{_fmt(r.get('cpu_util'), '.2f'):>8} "
                        f"{'—' if gil is None else format(gil, '.0%'):>8}")
        return "\n".join(rows)

    def __repr__(self):
        d = self.json
        head = (f"<pyhost compare {d.get('script')}: {d.get('tasks')} tasks per run, "
                f"{d.get('repeat')} runs per configuration, {d.get('cores')} cores, "
                f"Python {d.get('python')}>")
        lines = [head, self.table()]
        fitted = d.get("amdahl_serial_fraction") or {}
        if fitted:
            lines.append("Amdahl's serial fraction, fitted: " +
                         ", ".join(f"{mode} {f:.2f}" for mode, f in fitted.items()))
        lines += d.get("explanations", [])
        lines += ["Warning: " + w for w in d.get("warnings", [])]
        return "\n".join(lines)

    def __str__(self):
        return self.text

    def _repr_html_(self):
        return _html.embedded_page(self.html, height=_html.report_height(self.json))

    def save(self, path):
        """Write the HTML report to path."""
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.html)


class RunResult(JsonView):
    """`pyhost run`'s --json document (mode, workers, wall_s, tasks: [{id, worker, status,
    exit_code, stdout, stderr, ...}]). Also: `output` (what pyhost printed on stdout: the tasks'
    lines, tagged `[task k]` when there are several), `stderr`, `returncode`, `argv`."""

    def __init__(self, data, *, output, stderr, returncode, argv):
        super().__init__(data)
        self.output = output
        self.stderr = stderr
        self.returncode = returncode
        self.argv = argv

    def summary(self):
        d = self.json
        tasks = d.get("tasks", [])
        ok = sum(t.get("status") == "ok" for t in tasks)
        workers = d.get("workers")
        return (f"{d.get('mode')}, {workers} worker{'s' if workers != 1 else ''}: "
                f"{ok}/{len(tasks)} tasks ok in {_fmt(d.get('wall_s'), '.3f')} s")

    def __repr__(self):
        lines = [f"<pyhost run: {self.summary()}, exit code {self.returncode}>"]
        for t in self.json.get("tasks", []):
            lines.append(f"task {t['id']}: worker {t.get('worker')}, {t.get('status')}, exit code "
                         f"{t.get('exit_code')}, {_fmt(t.get('wall_s'), '.3f')} s"
                         + (f" ({t['error']})" if t.get("error") else ""))
        return "\n".join(lines)

    def _repr_html_(self):
        return _html.run_table(self.json, self.summary(), self.returncode)


class Info(JsonView):
    """`pyhost info --json`: the embedded Python, the free-threaded companion, the sandbox, ..."""

    @property
    def freethreaded(self):
        """True where `--mode freethreaded` can run (the companion build/pyhost-ft exists)."""
        return bool(self.json.get("free_threaded") or self.json.get("freethreaded_companion"))
