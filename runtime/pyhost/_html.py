"""HTML for notebooks: compare's self-contained report embedded in an iframe (its styles stay
inside it, the notebook's stay out), and the table of a run's tasks."""
import html


def _lines(texts, chars_per_line=110):
    """Lines of text that wrap at about chars_per_line (the report's font at 900 px)."""
    return sum(1 + len(t) // chars_per_line for t in texts)


def report_height(doc):
    """Pixels that show compare's whole report at a notebook's width (an estimate; the iframe
    scrolls if it falls short): the sections of host/report/compare_html.cpp, from the top."""
    results = doc.get("results", [])
    modes = []
    for r in results:
        if r["mode"] not in modes:
            modes.append(r["mode"])
    widest = {m: max(r["workers"] for r in results if r["mode"] == m) for m in modes}
    text = _lines(doc.get("explanations", []) + doc.get("verdicts", []) +
                  ["Warning: " + w for w in doc.get("warnings", [])])
    height = 120 + 70 + 24 * text          # title, "What happened"
    height += 110 + 440                    # "Speedup against workers": note and chart
    height += 70 + sum(2 * 60 + 52 * w + 90 for w in widest.values())  # a timeline and close-up a mode
    height += 80 + 28 * (len(results) + 1) + 40  # "Table"
    return height


def embedded_page(page, *, height):
    """An iframe showing page (a whole HTML document) in place, with nothing shared with the
    notebook: srcdoc, sandboxed (the report has no scripts anyway)."""
    return (f'<iframe class="pyhost-report" sandbox="" srcdoc="{html.escape(page, quote=True)}" '
            f'style="width: 100%; height: {height}px; border: 1px solid #ddd; background: #fff" '
            f'title="pyhost compare report"></iframe>')


_STATUS_COLOURS = {"ok": "#1a7f37", "failed": "#c62828", "crashed": "#c62828",
                   "timeout": "#8a5a00"}
_CELL = "border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top"
_OUTPUT_LINES = 40  # per task and stream: the rest is elided (result.tasks[k].stdout has it all)


def _number(value, spec):
    return "—" if value is None else format(value, spec)


def _output(text, colour):
    if not text:
        return ""
    lines = text.splitlines()
    if len(lines) > _OUTPUT_LINES:
        lines = lines[:_OUTPUT_LINES] + [f"... ({len(lines) - _OUTPUT_LINES} more lines)"]
    return (f'<pre style="margin: 0; white-space: pre-wrap; color: {colour}">'
            f'{html.escape(chr(10).join(lines))}</pre>')


def run_table(doc, summary, returncode):
    """One row per task: worker, status, exit code, times, and what it printed."""
    tasks = doc.get("tasks", [])
    sampled = any(t.get("gil_wait_s") is not None for t in tasks)
    heads = ["task", "worker", "status", "exit code", "wall s", "CPU s"]
    heads += ["GIL wait s"] if sampled else []
    heads += ["output"]
    rows = []
    for t in tasks:
        status = t.get("status", "")
        colour = _STATUS_COLOURS.get(status, "#222")
        note = f" ({html.escape(t['error'])})" if t.get("error") else ""
        cells = [str(t.get("id")), str(t.get("worker")),
                 f'<span style="color: {colour}; font-weight: 600">{html.escape(status)}</span>{note}',
                 str(t.get("exit_code")), _number(t.get("wall_s"), ".3f"),
                 _number(t.get("cpu_s"), ".3f")]
        if sampled:
            cells.append(_number(t.get("gil_wait_s"), ".3f"))
        cells.append(_output(t.get("stdout", ""), "#222") + _output(t.get("stderr", ""), "#c62828"))
        rows.append("<tr>" + "".join(f'<td style="{_CELL}">{c}</td>' for c in cells) + "</tr>")
    head = "<tr>" + "".join(f'<th style="{_CELL}; background: #f4f4f4">{h}</th>' for h in heads)
    return (f'<div class="pyhost-run"><p style="margin: 4px 0"><b>pyhost run</b>: '
            f'{html.escape(summary)}, exit code {returncode}</p>'
            f'<table class="pyhost-tasks" style="border-collapse: collapse; font-size: 13px">'
            f'{head}</tr>{"".join(rows)}</table></div>')
