"""The class report: one self-contained HTML page (plots embedded) per run of ``classroom report``.

For each assignment: the score distribution, the pass rate of every test cell, the most common mistakes the
checks recognised in their failure messages, and the students whose grading had an incident (a renamed or
broken file, a restored cell, a dead or stuck kernel). It reads ``.grading/reports/<assignment>.json``,
written by ``classroom autograde``, and the entries an LMS download's collection skipped,
``.grading/reports/<assignment>-collect.json`` (``classroom collect-zip``). Every message is cut to a bound, and so
is what a section lists (a report written before the reports capped their messages stays small too).
"""

import base64
import collections
import html
import io
import json
import os
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 (the backend must be chosen first)

from convcourse.grader.caps import cut  # noqa: E402
from convcourse.grader.collect import COLLECT_SUFFIX  # noqa: E402

# Characters shown of one message (a note, a skipped entry, a mistake), of one student's incidents, and of a
# section's incidents or skipped entries together; past the last, the rest is counted, not shown.
MAX_MESSAGE = 1_000
MAX_CELL = 4_000
MAX_LISTED = 100_000
MAX_MISTAKE = 200

MISTAKE_PATTERNS = [
    (re.compile(r"This is exactly what you get if (?P<what>[^.]+)\."), None),
    (re.compile(r"— likely (?P<what>[^.;\n]+)"), None),
    (re.compile(r"called (?P<what>np\.convolve|np\.correlate|TensorFlow|Keras|PyTorch|JAX|scipy\.\w+)"),
     "used {what} instead of writing it by hand"),
    (re.compile(r"changed its input"), "modified an input array"),
    (re.compile(r"subclass of numpy\.ndarray"), "returned a masked array or another ndarray subclass"),
    (re.compile(r"message should name the argument"), "error message does not name the argument"),
    (re.compile(r"it should raise ValueError"), "returned a result for unusable arguments"),
    (re.compile(r"NotImplementedError"), "function left unimplemented"),
]


def recognised_mistakes(errors):
    """The mistakes named in a list of ``{"grade_id", "error"}`` failures, each at most once per student."""
    found = set()
    for failure in errors:
        for pattern, template in MISTAKE_PATTERNS:
            match = pattern.search(cut(failure["error"], 2 * MAX_CELL))
            if match:
                what = cut(match.groupdict().get("what") or "", MAX_MISTAKE)
                found.add(template.format(what=what) if template else what.strip())
                break
    return found


def _png(figure):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _table(header, rows):
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _listed(rows, what):
    """The first ``rows`` up to MAX_LISTED characters together, and a last row counting the others."""
    shown, used = [], 0
    for position, row in enumerate(rows):
        used += sum(len(str(value)) for value in row)
        if used > MAX_LISTED:
            left = len(rows) - position
            return shown + [(f"[… cut: {left} more {what}]",) + ("",) * (len(row) - 1)]
        shown.append(row)
    return shown


def _collection_section(collection):
    """The entries an LMS download's collection skipped, each with its reason."""
    collected, skipped = collection.get("collected", []), collection.get("skipped", [])
    parts = ["<h3>Collection</h3>",
             f"<p>{len(collected)} submissions collected from the LMS download; {len(skipped)} entries skipped.</p>"]
    if skipped:
        rows = [(cut(entry, MAX_MESSAGE), cut(reason, MAX_MESSAGE)) for entry, reason in skipped]
        parts.append(_table(["skipped entry", "why"], _listed(rows, "skipped entries")))
    return parts


def _assignment_section(name, outcome, collection=None):
    totals = [r["score"] for r in outcome.values()]
    top = max((r["max_score"] for r in outcome.values()), default=0)
    tests = sorted({g for r in outcome.values() for g in r["cells"]})
    pass_rates = {g: sum(1 for r in outcome.values() if g in r["cells"] and r["cells"][g][0] >= r["cells"][g][1])
                  / len(outcome) for g in tests}
    mistakes = collections.Counter(m for r in outcome.values() for m in recognised_mistakes(r["errors"]))

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, max(3, 0.28 * len(tests) + 1)))
    left.hist(totals, bins=min(10, max(len(set(totals)), 1)), range=(0, top or 1), color="#4477aa")
    left.set(title="Scores", xlabel=f"points (of {top:g})", ylabel="students")
    right.barh(tests, [100 * pass_rates[g] for g in tests], color="#228833")
    right.set(title="Pass rate per test (%)", xlim=(0, 100))
    right.invert_yaxis()

    parts = [f"<h2>{html.escape(name)}</h2>", *(_collection_section(collection) if collection else []),
             f"<p>{len(outcome)} submissions; mean {sum(totals) / len(totals):.1f} of {top:g} points; "
             f"{sum(1 for t in totals if t == top)} with full marks.</p>",
             f'<img alt="scores and pass rates of {html.escape(name)}" src="{_png(figure)}">',
             "<h3>Pass rate per test</h3>",
             _table(["test cell", "pass rate"], [(g, f"{100 * pass_rates[g]:.0f}%") for g in tests]),
             "<h3>Most common recognised mistakes</h3>",
             _table(["mistake", "students"], mistakes.most_common(10)) if mistakes else "<p>None recognised.</p>"]
    incidents = _listed([(cut(student, MAX_MESSAGE), f"{r['score']:g}",
                          cut("; ".join(cut(note, MAX_MESSAGE) for note in r["notes"]), MAX_CELL))
                         for student, r in sorted(outcome.items()) if r["notes"]], "students' incidents")
    parts += ["<h3>Grading incidents</h3>",
              _table(["student", "score", "what happened"], incidents) if incidents else "<p>None.</p>"]
    return "\n".join(parts)


def graded_assignments(course_root):
    """The assignments with autograde results in ``.grading/reports/`` (not the reports of their collection)."""
    reports = Path(course_root) / ".grading" / "reports"
    return sorted(path.stem for path in reports.glob("*.json") if not path.stem.endswith(COLLECT_SUFFIX))


def write_report(course_root, assignments, output):
    """Write the class report for ``assignments`` to ``output`` (HTML, no external resources)."""
    reports = Path(course_root) / ".grading" / "reports"
    sections = []
    for assignment in assignments:
        path = reports / f"{assignment}.json"
        if not path.exists():
            raise FileNotFoundError(f"no autograde results for {assignment!r} in {reports}; run autograde first")
        collected = reports / f"{assignment}{COLLECT_SUFFIX}.json"
        collection = json.loads(collected.read_text()) if collected.exists() else None
        sections.append(_assignment_section(assignment, json.loads(path.read_text()), collection))
    style = ("body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
             "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.2em .6em;"
             "text-align:left}img{max-width:100%}")
    # Every student-supplied string is escaped; the policy forbids scripts and outside loads all the same.
    policy = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    page = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta http-equiv='Content-Security-Policy' content=\"{policy}\"><title>Class report</title>"
            f"<style>{style}</style></head><body><h1>Class report</h1>{''.join(sections)}</body></html>")
    # Grades of the whole class: readable by the instructor only, from the moment the file exists.
    descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(page)
    return Path(output)
