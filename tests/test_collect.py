"""Collecting an LMS download: every bad entry is skipped and reported, everyone else is collected."""

import io
import stat
import zipfile

import nbformat
import pytest

from convcourse.grader import collect
from convcourse.grader.collect import ArchiveRefused, collect_download

ASSIGNMENT = "01_cross_correlation"
NOTEBOOK = nbformat.writes(nbformat.v4.new_notebook()).encode()


def _zip(entries):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data, *options in entries:
            info = zipfile.ZipInfo(name, date_time=options[0] if options else (2026, 1, 1, 0, 0, 0))
            if name.endswith("@link"):
                info = zipfile.ZipInfo(name[:-5])
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def _collect(tmp_path, entries):
    download = tmp_path / "download.zip"
    download.write_bytes(_zip(entries))
    return collect_download(download, tmp_path / "submitted", ASSIGNMENT)


def test_good_entries_are_collected_and_bad_ones_reported(tmp_path):
    students, skipped = _collect(tmp_path, [
        ("alice_12_34_01_cross_correlation.ipynb", NOTEBOOK),
        ("bob_LATE_56_78_Untitled.ipynb", NOTEBOOK),
        ("../escape_1_2_x.ipynb", NOTEBOOK),
        ("/etc/absolute_1_2_x.ipynb", NOTEBOOK),
        ("carol_1_2_link.ipynb@link", b"/etc/passwd"),
        ("dave_1_2_notes.pdf", b"%PDF"),
        ("._1_2_hidden.ipynb", NOTEBOOK),
        ("noid.ipynb", NOTEBOOK),
        ("folder/", b""),
    ])
    assert students == ["alice", "bob"]
    reasons = dict(skipped)
    assert reasons["../escape_1_2_x.ipynb"] == "a path that leaves the folder (..)"
    assert reasons["/etc/absolute_1_2_x.ipynb"] == "an absolute path"
    assert reasons["carol_1_2_link.ipynb"] == "a link"
    assert reasons["dave_1_2_notes.pdf"] == "not a notebook (.ipynb)"
    assert "no student id" in reasons["._1_2_hidden.ipynb"] and "no student id" in reasons["noid.ipynb"]
    assert (tmp_path / "submitted" / "bob" / ASSIGNMENT / "Untitled.ipynb").exists()
    assert not (tmp_path / "escape").exists() and not any((tmp_path / "submitted").glob("*/*/*link*"))


def test_a_second_notebook_of_a_student_keeps_the_newer(tmp_path):
    students, skipped = _collect(tmp_path, [
        ("erin_1_2_old.ipynb", NOTEBOOK, (2026, 1, 1, 0, 0, 0)),
        ("erin_3_4_new.ipynb", NOTEBOOK, (2026, 1, 2, 0, 0, 0)),
    ])
    assert students == ["erin"]
    assert skipped[0][0] == "erin_1_2_old.ipynb" and "the newer one, erin_3_4_new.ipynb" in skipped[0][1]
    assert (tmp_path / "submitted" / "erin" / ASSIGNMENT / "new.ipynb").exists()


def test_a_nested_archive_is_opened_once_and_no_deeper(tmp_path):
    inner = _zip([("frank_1_2_answer.ipynb", NOTEBOOK)])
    deeper = _zip([("gina_1_2_inner.zip", _zip([("gina_1_2_answer.ipynb", NOTEBOOK)]))])
    students, skipped = _collect(tmp_path, [("frank.zip", inner), ("gina.zip", deeper)])
    assert students == ["frank"]
    assert dict(skipped)["gina.zip/gina_1_2_inner.zip"] == "an archive nested too deep"


def test_sizes_are_capped_before_and_while_extracting(tmp_path, monkeypatch):
    monkeypatch.setattr(collect, "MAX_TOTAL_BYTES", 10_000)
    with pytest.raises(ArchiveRefused, match="unpacks to"):
        _collect(tmp_path, [("hank_1_2_big.ipynb", b"x" * 20_000)])
    monkeypatch.setattr(collect, "MAX_TOTAL_BYTES", 10**9)
    monkeypatch.setattr(collect, "MAX_NOTEBOOK_BYTES", 1_000)
    students, skipped = _collect(tmp_path, [("ivan_1_2_big.ipynb", b"x" * 5_000), ("judy_1_2_ok.ipynb", NOTEBOOK)])
    assert students == ["judy"] and "larger than 1,000 bytes" in dict(skipped)["ivan_1_2_big.ipynb"]


def test_a_file_that_is_not_a_zip_is_refused_clearly(tmp_path):
    download = tmp_path / "download.zip"
    download.write_text("not a zip")
    with pytest.raises(ArchiveRefused, match="is not a zip archive"):
        collect_download(download, tmp_path / "submitted", ASSIGNMENT)
