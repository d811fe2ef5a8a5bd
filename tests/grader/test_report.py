"""The class report (``classroom report``, ``make report``): after an LMS download was collected, the collection's
report is shown as the assignment's collection problems, never read as an assignment's results."""

import json

from convcourse.grader import classroom

ASSIGNMENT = "01_cross_correlation"


def _graded_and_collected(course):
    reports = course / ".grading" / "reports"
    reports.mkdir(parents=True)
    outcome = {"alice": {"score": 2, "max_score": 2, "cells": {"test_f": [2, 2]}, "notes": [], "errors": []},
               "bob": {"score": 0, "max_score": 2, "cells": {"test_f": [0, 2]},
                       "notes": ["the notebook was named 'Untitled.ipynb'; graded as '01_cross_correlation.ipynb'"],
                       "errors": [{"grade_id": "test_f", "error": "AssertionError: f is wrong"}]}}
    (reports / f"{ASSIGNMENT}.json").write_text(json.dumps(outcome))
    # What `classroom collect-zip` writes (`make collect-zip`).
    (reports / f"{ASSIGNMENT}-collect.json").write_text(json.dumps({
        "collected": ["alice", "bob"],
        "skipped": [["../escape_1_2_x.ipynb", "a path that leaves the folder (..)"],
                    ["<b>carol</b>_1_2_notes.pdf", "not a notebook (.ipynb)"]]}))


def test_the_report_after_a_zip_collection_shows_what_collection_skipped(tmp_path):
    _graded_and_collected(tmp_path)
    output = tmp_path / "class-report.html"
    classroom.main(["--course", str(tmp_path), "report", "--output", str(output)])
    page = output.read_text()
    assert page.count("<h2>") == 1 and f"<h2>{ASSIGNMENT}</h2>" in page
    assert "2 submissions collected from the LMS download; 2 entries skipped" in page
    assert "../escape_1_2_x.ipynb" in page and "a path that leaves the folder (..)" in page
    assert "&lt;b&gt;carol&lt;/b&gt;_1_2_notes.pdf" in page and "<b>carol" not in page
    assert "Untitled.ipynb" in page


def test_thousands_of_skipped_entries_are_counted_not_listed(tmp_path):
    _graded_and_collected(tmp_path)
    collection = tmp_path / ".grading" / "reports" / f"{ASSIGNMENT}-collect.json"
    collection.write_text(json.dumps({"collected": [], "skipped": [[f"{k}_" + "x" * 10_000, "not a notebook (.ipynb)"]
                                                                   for k in range(2_000)]}))
    output = tmp_path / "class-report.html"
    classroom.main(["--course", str(tmp_path), "report", "--output", str(output)])
    page = output.read_text()
    assert len(page) < 1_000_000 and "more skipped entries]" in page
