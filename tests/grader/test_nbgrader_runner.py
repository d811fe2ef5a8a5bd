"""nbgrader's commands are forks of one runner that imported nbgrader once, and behave as ``python -m nbgrader``:
in their folder, with their environment, their output and their exit status."""

import os
import subprocess
import sys

from convcourse.grader import grading, nbgrader_runner

# Printed by nbgrader itself, as it loads a course's configuration: who started it, where, with what.
CONFIG = """import os
print("config", os.getppid(), os.getcwd(), os.environ.get("CONVCOURSE_PROBE"), flush=True)
c = get_config()
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(os.getcwd(), "gradebook.db")
"""


def _course(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text(CONFIG)
    return tmp_path


def _environment(course, probe):
    return dict(grading.nbgrader_environment(course), CONVCOURSE_PROBE=probe)


def _configs(output):
    return {line for line in output.splitlines() if line.startswith("config ")}


def test_commands_are_forks_of_one_runner(tmp_path):
    course = _course(tmp_path)
    parents = set()
    for probe in ("first", "second"):
        lines = []
        returncode, output = nbgrader_runner.run(["db", "student", "list"], course, _environment(course, probe),
                                                 lines.append)
        assert returncode == 0, output
        assert "There are 0 students in the database" in output
        assert "".join(lines) == output  # every line reached on_line, as it came
        (config,) = _configs(output)
        _, parent, folder, seen = config.split()
        assert (folder, seen) == (str(course), probe)
        parents.add(int(parent))
    (runner,) = parents
    assert runner != os.getpid() and runner == nbgrader_runner._RUNNER[0].process.pid


def test_exit_status_and_output_are_those_of_python_m_nbgrader(tmp_path):
    course = _course(tmp_path)
    arguments = ["db", "student", "remove", "nobody"]  # fails: no such student
    direct = subprocess.run([sys.executable, "-m", "nbgrader", *arguments], cwd=course,
                            env=_environment(course, "x"), capture_output=True, text=True, check=False)
    returncode, output = nbgrader_runner.run(arguments, course, _environment(course, "x"))
    assert direct.returncode != 0 and returncode == direct.returncode
    assert "nobody" in output and any("nobody" in line for line in direct.stderr.splitlines())


def test_a_runner_that_died_is_replaced(tmp_path):
    course = _course(tmp_path)
    nbgrader_runner.run(["db", "student", "list"], course, _environment(course, "before"))
    dead = nbgrader_runner._RUNNER[0].process
    dead.kill()
    dead.wait()
    returncode, output = nbgrader_runner.run(["db", "student", "list"], course, _environment(course, "after"))
    assert returncode == 0, output
    assert nbgrader_runner._RUNNER[0].process.pid != dead.pid


SETTINGS = {"CONVCOURSE_NOTEBOOK_TIMEOUT": "notebook_timeout", "CONVCOURSE_GRADER_MEMORY_LIMIT_MB": "grader_memory_mb",
            "CONVCOURSE_GRADER_CPU_SECONDS": "grader_cpu_seconds"}
SETTINGS_CONFIG = """from convcourse.grader.contained import ContainedExecute
executor = ContainedExecute()
print("settings", executor.notebook_timeout, executor.grader_memory_mb, executor.grader_cpu_seconds, flush=True)
"""


def test_the_graders_settings_follow_each_commands_environment(tmp_path):
    """Read when the executor is made: the runner imported the grading code once, with its own environment."""
    (tmp_path / "nbgrader_config.py").write_text(SETTINGS_CONFIG)
    nbgrader_runner.run(["db", "student", "list"], tmp_path, _environment(tmp_path, "start"))  # the runner has started
    for values in (("111", "222", "33"), ("444", "555", "66")):
        environment = dict(_environment(tmp_path, "settings"), **dict(zip(SETTINGS, values)))
        _, output = nbgrader_runner.run(["db", "student", "list"], tmp_path, environment)
        assert {line for line in output.splitlines() if line.startswith("settings")} == {f"settings {' '.join(values)}"}


def test_a_fork_of_the_caller_starts_its_own_runner(tmp_path):
    """A forked process inherits the runner object, not the thread that reads its replies: it starts its own, and
    leaves its parent's alone."""
    course = _course(tmp_path)
    nbgrader_runner.run(["db", "student", "list"], course, _environment(course, "parent"))
    parents = nbgrader_runner._RUNNER[0].process.pid
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:
        code = 1
        try:
            _, output = nbgrader_runner.run(["db", "student", "list"], course, _environment(course, "child"))
            (config,) = _configs(output)
            os.write(write_end, config.encode())
            nbgrader_runner.stop()
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end) as reader:
        config = reader.read()
    assert os.waitpid(child, 0)[1] == 0
    _, runner, _, probe = config.split()
    assert probe == "child" and int(runner) != parents
    returncode, output = nbgrader_runner.run(["db", "student", "list"], course, _environment(course, "parent again"))
    assert returncode == 0 and nbgrader_runner._RUNNER[0].process.pid == parents
