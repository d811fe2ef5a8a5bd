"""The one setting of the grading service: unset, grading stays local with SQLite; set, it must name a Redis broker
and a PostgreSQL database, and nbgrader's gradebook follows it."""

import pytest

from convcourse.grader import grading
from convcourse.grader.service import intake, settings


def test_without_the_setting_the_gradebook_is_the_courses_sqlite_file(monkeypatch, tmp_path):
    monkeypatch.delenv("CONVCOURSE_SERVICE", raising=False)
    assert not settings.configured()
    assert grading.gradebook_url(tmp_path) == f"sqlite:///{tmp_path / '.grading' / 'gradebook.db'}"


def test_the_setting_names_the_broker_and_the_gradebook(monkeypatch, tmp_path):
    monkeypatch.setenv("CONVCOURSE_SERVICE", "redis://10.0.0.5:6379/0 postgresql://grader:pw@10.0.0.5:5432/gradebook")
    assert settings.broker_url() == "redis://10.0.0.5:6379/0"
    assert grading.gradebook_url(tmp_path) == "postgresql+psycopg2://grader:pw@10.0.0.5:5432/gradebook"


@pytest.mark.parametrize("value", ["redis://h:6379/0", "postgresql://u@h/db", "redis://a/0 redis://b/0",
                                   "redis://h/0 sqlite:///gradebook.db"])
def test_a_setting_that_does_not_name_both_is_refused(monkeypatch, value):
    monkeypatch.setenv("CONVCOURSE_SERVICE", value)
    with pytest.raises(settings.ServiceSetting, match="CONVCOURSE_SERVICE must be"):
        settings.database_url()


def test_the_quota_is_a_whole_number(monkeypatch):
    monkeypatch.setenv("CONVCOURSE_DAILY_QUOTA", "three")
    with pytest.raises(settings.ServiceSetting, match="got 'three'"):
        settings.daily_quota()
    monkeypatch.delenv("CONVCOURSE_DAILY_QUOTA")
    assert settings.daily_quota() == 3


def test_the_quota_notice_escapes_the_assignment_name():
    page = intake.quota_page("<b>01</b>", 3)
    assert "<b>01</b>" not in page and "&lt;b&gt;01&lt;/b&gt;" in page and "3 submissions" in page
