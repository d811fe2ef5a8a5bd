"""Unit tests of convcourse.grader.sandbox: limits, kernel spec, slots."""

import json
import subprocess
import sys

from convcourse.grader import sandbox


def test_limits_apply_to_a_child_process():
    code = ("import resource; from convcourse.grader.sandbox import apply_limits; apply_limits(); "
            "print(resource.getrlimit(resource.RLIMIT_AS)[0] // 2**20, resource.getrlimit(resource.RLIMIT_NPROC)[0])")
    env = {"CONVCOURSE_MEMORY_LIMIT_MB": "2048", "CONVCOURSE_PROCESS_LIMIT": "77", "PATH": "/usr/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.split() == ["2048", "77"]


def test_memory_limit_turns_a_huge_allocation_into_memory_error():
    code = ("from convcourse.grader.sandbox import apply_limits; apply_limits(); import numpy as np\n"
            "try:\n    np.ones(30 * 2**30 // 8)\nexcept MemoryError:\n    print('MemoryError')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"CONVCOURSE_MEMORY_LIMIT_MB": "2048", "PATH": "/usr/bin"}).stdout
    assert out.strip() == "MemoryError"


def test_kernel_spec_runs_this_launcher(tmp_path):
    folder = sandbox.install_kernel_spec(tmp_path)
    spec = json.loads((folder / "kernel.json").read_text())
    assert spec["argv"][:3] == [sys.executable, "-m", "convcourse.grader.sandbox"] and "{connection_file}" in spec["argv"]
    assert folder.name == sandbox.KERNEL_NAME


def test_a_slot_is_taken_while_its_kernel_lives(tmp_path):
    first = sandbox._take_slot(tmp_path)
    second = sandbox._take_slot(tmp_path)
    assert first != second
    (tmp_path / f"slot-{first}.pid").write_text("999999999")
    assert sandbox._take_slot(tmp_path) == first


def test_usage_message():
    completed = subprocess.run([sys.executable, "-m", "convcourse.grader.sandbox"], capture_output=True, text=True)
    assert completed.returncode != 0 and "usage: python -m convcourse.grader.sandbox -f CONNECTION_FILE" in completed.stderr
