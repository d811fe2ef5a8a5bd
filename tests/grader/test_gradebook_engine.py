"""In an nbgrader command, every ``Gradebook`` of one database shares one engine (its compiled statements), made
by that command's own process; what each writes, the others read."""

from nbgrader import api

from convcourse.grader import gradebook, gradebook_engine, grading


def test_gradebooks_of_one_process_share_one_engine_and_a_fork_gets_its_own(tmp_path, monkeypatch):
    monkeypatch.setattr(api, "create_engine", api.create_engine)  # put back after the test
    gradebook_engine.share_engines()
    course = grading.prepare_course(tmp_path / "course", ["01_cross_correlation"])
    url = f"sqlite:///{gradebook.course_gradebook(course)}"
    with api.Gradebook(url) as first:
        first.add_student("alice")
    with api.Gradebook(url) as second:
        assert second.find_student("alice").id == "alice"
    assert second.engine is first.engine
    monkeypatch.setattr(gradebook_engine.os, "getpid", lambda: -1)  # as a forked child would see it
    with api.Gradebook(url) as in_a_fork:
        assert in_a_fork.find_student("alice").id == "alice"
    assert in_a_fork.engine is not first.engine
