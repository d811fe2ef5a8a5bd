"""What collecting an LMS download lists of the entries it skipped stays small: an archive's names and how many
entries it has are the uploader's choice."""

import zipfile

import nbformat

from convcourse.grader import collect
from convcourse.grader.collect import collect_download

NOTEBOOK = nbformat.writes(nbformat.v4.new_notebook()).encode()


def test_long_names_are_cut_and_thousands_of_entries_counted(tmp_path, monkeypatch):
    monkeypatch.setattr(collect, "MAX_SKIPPED", 50)
    download = tmp_path / "download.zip"
    with zipfile.ZipFile(download, "w") as archive:
        archive.writestr("alice_1_2_answer.ipynb", NOTEBOOK)
        for k in range(120):
            archive.writestr(f"{k}_" + "x" * 20_000 + ".pdf", b"")
    students, skipped = collect_download(download, tmp_path / "submitted", "01_cross_correlation")
    assert students == ["alice"]
    assert len(skipped) == 51 and skipped[-1][0] == "[… cut: 70 more entries]"
    assert all(len(entry) < collect.MAX_NAME + 40 for entry, _ in skipped)
    assert skipped[0][0].endswith("[… cut: 19,706 characters]") and skipped[0][1] == "not a notebook (.ipynb)"
    assert len(repr(skipped)) < 50_000
