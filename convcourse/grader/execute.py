"""The grading executor: test cells are decided in the grader, the student's kernel only runs student code.

:class:`TrustedExecute` replaces nbgrader's ``Execute``. It walks the notebook as nbgrader does, but

* a *test cell* (a grade cell known to the gradebook) never reaches the kernel: its source is taken from the
  gradebook (hidden tests included) and run in this process, in a namespace of its own where each graded
  function's name is a :class:`convcourse.grader.proxy.KernelFunction`. The references, cases, tolerances and
  hidden lines stay here; the kernel sees one call at a time and the grader writes the cell's only output (the
  failure message, or nothing), from which nbgrader scores the cell as usual;
* a locked setup cell runs in the kernel and, from the gradebook's copy, in the test namespace too (its imports);
* every other cell is the student's and runs in the kernel, within the per-cell timeout and the notebook's
  budget of student time (``notebook_timeout``), student-added cells included.

What survives a broken or hostile kernel is :class:`ResilientExecute`'s job, below.


nbgrader gives up on the whole notebook when the kernel dies (``os._exit``, a crash, the memory limit) or
stops answering after a timed-out cell (a loop that swallows ``KeyboardInterrupt``). Then the student gets
no grade at all. Here the cell that did it gets an error output that says what happened, the kernel is
restarted, the notebook's earlier non-test cells (setup and answers) are run again quietly, and grading
goes on; if the kernel cannot be brought back, every remaining code cell gets an error output instead.
Either way the student's test cells are scored and the reason is in the autograded notebook and feedback.
"""

import ast
import asyncio
import collections
import contextlib
import copy
import functools
import importlib
import json
import os
import queue
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_sync
from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import Execute
from traitlets import Integer, default

from convcourse.grader import proxy
from convcourse.grader.caps import cut, cut_lines
from convcourse.grader.checks import stand_in_value
from convcourse.grader.proxy import KernelCallFailed, KernelFunction
from convcourse.grader.sandbox import SandboxKernelManager
from convcourse.student.callee import STAND_IN_PROMPT_BYTES

KERNEL_DIED = ("KernelDied", "the kernel died while running this cell (os._exit, a crash, or the memory limit); "
               "it was restarted and your earlier cells were run again")
KERNEL_STUCK = ("KernelUnresponsive", "this cell ran past the time limit and ignored the interrupt; "
                "the kernel was restarted and your earlier cells were run again")
NOT_RUN = ("NotRun", "not run: the kernel could not be restarted after an earlier cell ({reason})")
OUT_OF_TIME = ("NotebookTimeLimit", "not run: the notebook used up its {seconds} s of grading time")
KERAS_ASSIGNMENTS = ("04_", "05_")  # their graded functions build Keras models: a kernel runtime with Keras


def error_output(ename, evalue):
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class ResilientExecute(Execute):
    """``Execute`` that restarts a dead or stuck kernel and carries on with the next cell."""

    interrupt_grace = Integer(10, help="Seconds a kernel has to answer after a timeout interrupt.").tag(config=True)
    setup_timeout = Integer(
        300, help="Timeout of the instructor's own cells (setup imports), which are neither answers nor tests."
    ).tag(config=True)
    max_output_chars = Integer(
        100_000, help="Characters of output kept per cell; the rest is dropped as it arrives (a print loop "
                      "must not fill the grader's memory or the feedback)."
    ).tag(config=True)
    max_restarts = Integer(5, help="Kernel restarts allowed in one notebook before the rest is not run.").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        self._notebook = nb
        self._restarts = 0
        self._lost_reason = None
        self._output_chars = {}
        return super().preprocess(nb, resources, km)

    def output(self, outs, msg, display_id, cell_index):
        if msg["msg_type"] in ("execute_result", "error"):
            # Results and errors always count, capped: a 60 MB value or a 30 MB message stays out of the notebook.
            msg = dict(msg, content=capped_content(msg.get("content", {}), self.max_output_chars))
            return super().output(outs, msg, display_id, cell_index)
        if msg["msg_type"] not in ("stream", "display_data", "update_display_data"):
            return super().output(outs, msg, display_id, cell_index)
        # The notice goes to stdout: nbgrader scores a cell with any stderr output as failed.
        content = msg.get("content", {})
        size = len(content.get("text", "")) + sum(len(str(v)) for v in content.get("data", {}).values())
        used = self._output_chars.get(cell_index, 0)
        if used + size > self.max_output_chars:
            if used <= self.max_output_chars:
                self._output_chars[cell_index] = self.max_output_chars + 1
                notice = NotebookNode(output_type="stream", name="stdout", text=(
                    f"\n[output truncated: this cell printed more than {self.max_output_chars:,} characters]\n"))
                outs.append(notice)
                return notice
            return None
        self._output_chars[cell_index] = used + size
        return super().output(outs, msg, display_id, cell_index)

    def on_cell_executed(self, **kwargs):
        reply = kwargs.get("execute_reply") or {}
        if reply.get("content", {}).get("status") == "error":
            reply["content"] = capped_content(reply["content"], self.max_output_chars)
        return super().on_cell_executed(**kwargs)

    def _get_timeout(self, cell):
        timeout = super()._get_timeout(cell)
        if cell is not None and not (utils.is_grade(cell) or utils.is_solution(cell)) and timeout is not None:
            return max(timeout, self.setup_timeout)
        return timeout

    async def _async_handle_timeout(self, timeout, cell=None):
        reply = await super()._async_handle_timeout(timeout, cell)
        if not await self._kernel_answers(self.interrupt_grace):
            raise _KernelStuck()
        return reply

    async def _kernel_answers(self, seconds):
        """Does the kernel answer a shell request within ``seconds``? (A kernel still looping does not.)"""
        msg_id = self.kc.kernel_info()
        deadline = asyncio.get_running_loop().time() + seconds
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return False
            try:
                reply = await self.kc.shell_channel.get_msg(timeout=remaining)
            except Exception:
                return False
            if reply.get("parent_header", {}).get("msg_id") == msg_id:
                return True

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if cell.cell_type != "code" or not cell.source.strip():
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        if self._lost_reason is not None:
            cell.outputs = [error_output(NOT_RUN[0], NOT_RUN[1].format(reason=self._lost_reason))]
            return cell
        try:
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        except (DeadKernelError, _KernelStuck, CellTimeoutError) as problem:
            ename, evalue = KERNEL_DIED if isinstance(problem, DeadKernelError) else KERNEL_STUCK
            self.log.warning("Cell %s: %s; restarting the kernel", cell_index, ename)
            cell.outputs = [error_output(ename, evalue)]
            await self._recover(cell_index, ename)
            return cell

    execute_cell = run_sync(async_execute_cell)

    async def _recover(self, failed_index, reason):
        self._restarts += 1
        if self._restarts > self.max_restarts:
            self._lost_reason = f"{reason}, {self.max_restarts} restarts already"
            return
        try:
            await self.km.restart_kernel(now=True)
            await self.kc.wait_for_ready(timeout=self.startup_timeout)
            for index, earlier in enumerate(self._notebook.cells[:failed_index]):
                if earlier.cell_type == "code" and not utils.is_grade(earlier) and earlier.source.strip():
                    await super().async_execute_cell(copy.deepcopy(earlier), index, store_history=False)
        except (DeadKernelError, _KernelStuck, CellTimeoutError, RuntimeError, asyncio.TimeoutError) as problem:
            self.log.warning("The kernel could not be recovered: %s", problem)
            self._lost_reason = reason


def capped_content(content, limit):
    """A result's or an error's content with every text cut to ``limit`` characters, saying what was cut."""
    content = dict(content)
    if "data" in content:
        content["data"] = {kind: cut(value, limit, "\n") if isinstance(value, str) else value
                           for kind, value in list(content["data"].items())[:8]
                           if isinstance(value, str) or len(json.dumps(value)) <= limit}
    if "evalue" in content:
        content["ename"] = cut(content.get("ename", ""), 200)
        content["evalue"] = cut(content["evalue"], limit, "\n")
    if "traceback" in content:
        content["traceback"] = cut_lines(content.get("traceback") or [], limit)
    return content


class NotebookOverBudget(Exception):
    """The grader's own work in a test cell ran past the notebook's budget: grading this notebook must stop."""


class _KernelStuck(Exception):
    """The kernel ignored the interrupt sent after a timeout."""


class TrustedExecute(ResilientExecute):
    """Runs test cells in the grader against the kernel's functions; everything else in the sandboxed kernel."""

    notebook_timeout = Integer(
        help="Seconds of grading per notebook: the submission's cells, student-added ones included, and its test "
             "cells whole (the calls of its functions and the grader's work on what they return); "
             "CONVCOURSE_NOTEBOOK_TIMEOUT, else 900.",
    ).tag(config=True)

    # Read when the executor is made, not when this module is imported: nbgrader's commands are forks of a runner
    # that imported it once (convcourse.grader.nbgrader_runner), each with its own environment.
    @default("notebook_timeout")
    def _notebook_timeout_from_the_environment(self):
        return int(os.environ.get("CONVCOURSE_NOTEBOOK_TIMEOUT", 900))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", SandboxKernelManager)
        super().__init__(*args, **kwargs)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-cell")

    def preprocess(self, nb, resources=None, km=None):
        info = (resources or {}).get("nbgrader", {})
        self._assignment = info.get("assignment", "")
        self._load_gradebook(info["db_url"], info["notebook"], self._assignment)
        self._namespace = {"__name__": "__grading__"}
        self._student_seconds = 0.0  # time spent running the submission's code: cells and calls
        self._keras_import_seconds = 0.0  # of the current kernel call: the grader's own, not the student's
        self._calls = 0
        self._broken = None
        self._handwritten = None  # (km, kc) of the NumPy-only kernel, for a Keras assignment
        self._handwritten_broken = None
        self._handwritten_unavailable = None
        self._handwritten_sources = []  # what ran in it, to run again after a restart
        try:
            return super().preprocess(nb, resources, km)
        finally:
            if self._handwritten is not None:
                _shut(self._handwritten[0])

    def _load_gradebook(self, db_url, notebook, assignment):
        """From the gradebook (never from the submission): test sources, setup sources, graded function names."""
        self._tests, self._setups, self._functions = gradebook_cells(db_url, notebook, assignment)
        # A function is graded once all its test cells have run; from then on its reference stands in for it
        # when another function under test calls it.
        self._tests_left = collections.Counter(owner(name, self._functions) for name in self._tests)
        self._graded = set()
        self._failed = set()  # functions with a failed test cell in this notebook
        declared = _assignment_references(assignment)
        self._stand_ins, self._helpers = declared.stand_ins, declared.helpers
        self._builders, self._model_policies = declared.builders, declared.model_policies
        self._built = {}  # one model object per builder call: the model a test checks is the one it trains

    def kernel_runtime(self):
        return "keras" if self._assignment.startswith(KERAS_ASSIGNMENTS) else "numpy"

    def create_kernel_manager(self):
        booted = _take_booted("kernel", self.kernel_runtime())
        if booted is not None:
            self.km = booted
            return booted
        km = super().create_kernel_manager()
        if isinstance(km, SandboxKernelManager):
            km.runtime = self.kernel_runtime()
        return km

    def _grade_id(self, cell):
        return cell.metadata.get("nbgrader", {}).get("grade_id")

    def _remaining(self):
        """Seconds left of the notebook's budget for the submission's own code (the grader's checks are free)."""
        return self.notebook_timeout - self._student_seconds

    def _get_timeout(self, cell):
        timeout = super(ResilientExecute, self)._get_timeout(cell)
        if cell is not None and self._grade_id(cell) in self._setups and timeout is not None:
            timeout = max(timeout, self.setup_timeout)
        remaining = max(int(self._remaining()), 1)
        return remaining if timeout is None else min(timeout, remaining)

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if cell.cell_type != "code" or not cell.source.strip():
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        grade_id = self._grade_id(cell)
        if utils.is_grade(cell) and grade_id in self._tests:
            cell.outputs = []
            return await self._run_test_cell(cell, cell_index, self._tests[grade_id])
        if self._remaining() <= 0:
            cell.outputs = [error_output(OUT_OF_TIME[0], OUT_OF_TIME[1].format(seconds=self.notebook_timeout))]
            return cell
        setup = grade_id in self._setups and utils.is_locked(cell)
        if setup:
            await asyncio.get_running_loop().run_in_executor(self._pool, _run_trusted, self._setups[grade_id],
                                                             self._namespace, f"setup cell {grade_id}")
        started = time.monotonic()
        try:
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        finally:
            if self._separates_handwritten():
                await self._run_in_handwritten(_tolerating_imports(self._setups[grade_id]) if setup else cell.source)
            self._student_seconds += time.monotonic() - started
            await self._stop_strays()

    # --- the NumPy-only kernel of a Keras assignment's hand-written functions ----------------------------------
    # In 04-05 the student's kernel has Keras, which model-building functions need. Their hand-written functions
    # (dense_to_conv_kernel, receptive_field) must not use it, and a guard inside the student's own process can be
    # switched off; so every non-test cell also runs in a second kernel from the NumPy-only runtime, where Keras
    # is not installed at all, and the graded calls of hand-written functions are answered there.

    def _separates_handwritten(self):
        return self.kernel_runtime() == "keras"

    @contextlib.asynccontextmanager
    async def _in_handwritten_kernel(self):
        """Within the block, ``self.km``/``self.kc`` are the NumPy-only kernel (started or brought back first, its
        cells run again); a failure there is that kernel's and never marks the student's kernel broken."""
        await self._ensure_handwritten()
        saved, self._broken = (self.km, self.kc, self._broken), self._handwritten_broken
        self.km, self.kc = self._handwritten
        try:
            yield
        finally:
            self._handwritten_broken = self._broken
            self.km, self.kc, self._broken = saved

    async def _ensure_handwritten(self):
        if self._handwritten_unavailable is not None:
            raise KernelCallFailed(self._handwritten_unavailable)
        if self._handwritten is None:
            km = _take_booted("handwritten", "numpy")
            try:
                if km is None:
                    km = SandboxKernelManager(kernel_name=self.kernel_name, config=self.config)
                    km.runtime = "numpy"
                    await km.start_kernel(extra_arguments=list(self.extra_arguments))
                kc = km.client()
                kc.start_channels()
                await kc.wait_for_ready(timeout=self.startup_timeout)
            except Exception as error:  # noqa: BLE001 (the hand-written functions' calls then fail, saying why)
                self._handwritten_unavailable = f"the NumPy-only kernel of hand-written functions did not start ({error})"
                raise KernelCallFailed(self._handwritten_unavailable) from None
            self._handwritten = (km, kc)
        elif self._handwritten_broken is not None:
            km, kc = self._handwritten
            self._handwritten_broken = None
            try:
                await km.restart_kernel(now=True)
                await kc.wait_for_ready(timeout=self.startup_timeout)
            except Exception as error:  # noqa: BLE001 (as above: its calls fail, saying why)
                self._handwritten_unavailable = f"the NumPy-only kernel could not be restarted ({error})"
                raise KernelCallFailed(self._handwritten_unavailable) from None
            async with self._in_handwritten_kernel():
                for source in self._handwritten_sources:
                    await self._run_here(source)

    async def _run_in_handwritten(self, source):
        """Run a cell's source in the NumPy-only kernel too; its outputs are dropped (the student's kernel's count)."""
        with contextlib.suppress(KernelCallFailed):  # it did not start: the calls of hand-written functions say so
            async with self._in_handwritten_kernel():
                await self._run_here(source)
        self._handwritten_sources.append(source)

    async def _run_here(self, source):
        if self._broken is not None:
            return
        try:
            msg_id = self.kc.execute(source, silent=True, store_history=False, allow_stdin=False)
            reply = await self._await_reply(msg_id, min(self.timeout or self._remaining(), max(self._remaining(), 1)))
            if reply is None:
                await self.km.interrupt_kernel()
                if not await self._kernel_answers(self.interrupt_grace):
                    self._broken = KERNEL_STUCK[0]
        except _KernelDiedDuringCall:
            self._broken = KERNEL_DIED[0]

    execute_cell = run_sync(async_execute_cell)

    async def _run_test_cell(self, cell, cell_index, source):
        if self._lost_reason is not None:
            cell.outputs = [error_output(NOT_RUN[0], NOT_RUN[1].format(reason=self._lost_reason))]
            return cell
        if self._remaining() <= 0:
            cell.outputs = [error_output(OUT_OF_TIME[0], OUT_OF_TIME[1].format(seconds=self.notebook_timeout))]
            return cell
        self._loop = asyncio.get_running_loop()
        # The cell's time limit counts the student's time only (kernel calls), never the grader's own checks.
        self._kernel_seconds_left = self.timeout or self._remaining()
        self._namespace.update({name: KernelFunction(name, self._call_from_test) for name in self._functions})
        grade_id = self._grade_id(cell)
        self._under_test = owner(grade_id, self._functions)
        self._stand_ins_used = set()
        # The whole cell counts toward the notebook's budget: the grader's work in it (models rebuilt and run,
        # references for the student's calls, training) is what this submission made it do.
        started, before = time.monotonic(), self._student_seconds
        running = self._loop.run_in_executor(self._pool, _run_trusted, source, self._namespace,
                                             f"test cell {grade_id}")
        try:
            # A thread cannot be stopped: past the budget, the grading process itself must end (contained.py).
            problem = await asyncio.wait_for(asyncio.shield(running), timeout=max(self._remaining(), 0) + 1)
        except asyncio.TimeoutError:
            raise NotebookOverBudget(f"test cell {grade_id} ran past the notebook's budget") from None
        self._student_seconds = before + (time.monotonic() - started)
        note = self._stand_in_note()
        if note:
            cell.outputs.append(NotebookNode(output_type="stream", name="stdout", text=note))
        if problem is not None:
            cell.outputs.append(NotebookNode(capped_content(error_output(*problem), self.max_output_chars)))
            self._failed.add(self._under_test)
        await self._stop_strays()
        self._tests_left[self._under_test] -= 1
        if self._tests_left[self._under_test] <= 0:
            self._graded.add(self._under_test)
        if self._broken is not None:
            reason, self._broken = self._broken, None
            await self._recover(cell_index, reason)
        return cell

    def _stand_in_note(self):
        """What the feedback says when the function under test called another graded function that failed."""
        helped = sorted(self._stand_ins_used & self._failed)
        if not helped:
            return ""
        names = " and ".join(helped)
        return (f"{NOTE_PREFIX} {self._under_test} calls {names}. While {self._under_test} was tested, those calls "
                f"were answered by a correct {names}, so {self._under_test} is judged on its own logic; what is wrong "
                f"with your {names} is shown in {'their' if len(helped) > 1 else 'its'} own test cells above.\n")

    async def _stop_strays(self):
        """Each cell starts clean, in the student's kernel and in the NumPy-only one."""
        await self._stop_strays_here()
        if self._handwritten is not None and self._handwritten_broken is None:
            async with self._in_handwritten_kernel():
                await self._stop_strays_here()

    async def _stop_strays_here(self):
        """Processes a cell forked and left running in this kernel's box are ended (the kernel stays), and the
        kernel is asked to reap them, so that their process slots are free again."""
        if not isinstance(self.km, SandboxKernelManager):
            return
        ended = self.km.stop_strays()
        if not ended or self._lost_reason or self._broken:
            return
        try:
            msg_id = self.kc.execute(REAP_CHILDREN, silent=True, store_history=False, allow_stdin=False)
            await self._await_reply(msg_id, min(10.0, max(self._remaining(), 1.0)))
        except _KernelDiedDuringCall:
            pass

    def _call_from_test(self, calls):
        """Called from the test cell's thread: one round trip to the kernel, run on the executor's event loop."""
        return asyncio.run_coroutine_threadsafe(self._kernel_call(calls), self._loop).result()

    async def _kernel_call(self, calls):
        name = calls[0][0]
        key = _builder_key(calls) if name in self._builders else None
        if key is not None and key in self._built:
            return [self._built[key]]
        if self._separates_handwritten() and name not in self._builders:
            async with self._in_handwritten_kernel():
                replies = await self._kernel_round_trip(calls)
        else:
            replies = await self._kernel_round_trip(calls)
        if key is not None and replies[0][0] == "returned":
            self._built[key] = replies[0]
        return replies

    async def _kernel_round_trip(self, calls):
        name = calls[0][0]
        if self._broken is not None:
            raise KernelCallFailed(f"{name} was not called: {self._broken}")
        folders = self.km.call_folders()
        folders.model_policy = self._model_policies.get(name)
        self._calls += 1
        number = self._calls
        stand_ins = sorted(function for function in self._graded
                           if function in self._stand_ins and function in self._helpers.get(name, ()))
        written = folders.write_request(number, calls, stand_ins, guarded=name not in self._builders)
        code = (f"__import__('convcourse.student.callee', fromlist=['serve'])"
                f".serve({number}, {folders.requests!r}, {folders.results!r})")
        try:
            msg_id = self.kc.execute(code, silent=True, store_history=False, allow_stdin=True, stop_on_error=False)
            answering = asyncio.ensure_future(self._answer_stand_ins(msg_id, number, set(stand_ins), folders, written))
            try:
                started, self._keras_import_seconds = time.monotonic(), 0.0
                reply = await self._await_reply(msg_id, min(self._kernel_seconds_left, self._remaining()))
            finally:
                answering.cancel()
                spent = time.monotonic() - started - self._keras_import_seconds
                self._kernel_seconds_left -= spent
                self._student_seconds += spent
            if reply is None:
                await self.km.interrupt_kernel()
                answered = await self._kernel_answers(self.interrupt_grace)
                limit = f"{name} ran past the time limit of this test cell ({self.timeout} s)"
                if not answered:
                    self._broken = KERNEL_STUCK[0]
                    raise proxy.KernelUnresponsive(f"{limit} and ignored the interrupt; the kernel was restarted")
                raise proxy.CellTimeoutError(limit)
            content = reply.get("content", {})
            if content.get("status") != "ok":
                raise KernelCallFailed(f"the kernel could not run {name} ({content.get('ename', 'error')})")
            return folders.read_replies(number, len(calls))
        except _KernelDiedDuringCall:
            self._broken = KERNEL_DIED[0]
            raise proxy.KernelDied(f"the kernel died while running {name} (os._exit, a crash, or the memory limit); "
                             "it was restarted and your earlier cells were run again") from None
        finally:
            folders.clear(written, number)

    async def _await_reply(self, msg_id, timeout):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(timeout, 0)
        drain = asyncio.ensure_future(self._drain_iopub())
        try:
            while True:
                remaining = deadline + self._keras_import_seconds - loop.time()
                if remaining <= 0:
                    return None
                try:
                    reply = await self.kc.shell_channel.get_msg(timeout=min(remaining, 1.0))
                except queue.Empty:
                    if not await self.km.is_alive():
                        raise _KernelDiedDuringCall() from None
                    continue
                if reply.get("parent_header", {}).get("msg_id") == msg_id:
                    return reply
        finally:
            drain.cancel()

    async def _answer_stand_ins(self, msg_id, number, allowed, folders, written):
        """Answer the kernel's stand-ins (over stdin) with the grader's references, computed here."""
        count = 0
        while True:
            try:
                message = await self.kc.stdin_channel.get_msg(timeout=1.0)
            except queue.Empty:
                continue
            if message.get("parent_header", {}).get("msg_id") != msg_id or message["msg_type"] != "input_request":
                continue
            count += 1
            try:
                request = json.loads(str(message["content"].get("prompt", ""))[:STAND_IN_PROMPT_BYTES])
                name = request["stand_in"]
                if name not in allowed:
                    raise KernelCallFailed(f"{name} has no stand-in here")
                args = folders.read_arguments(request["args"])
                self._stand_ins_used.add(name)
                reference = self._stand_ins[name]
                # In a thread: a costly reference must not stop this loop from enforcing the call's time limit.
                value = await asyncio.get_running_loop().run_in_executor(
                    None, stand_in_value, reference, args, functools.partial(self._import_keras_off_the_clock, reference))
                answer = {"status": "returned", "value": folders.write_value(f"{number}-s{count}", value, written)}
            except (ValueError, TypeError) as error:
                answer = {"status": "raised", "builtin": type(error).__name__, "message": str(error)[:2000]}
            except Exception as error:  # noqa: BLE001 (a malformed request fails the student's call, not grading)
                answer = {"status": "raised", "builtin": "RuntimeError",
                          "message": f"the grader could not answer this call ({type(error).__name__})"}
            self.kc.input(json.dumps(answer))

    def _import_keras_off_the_clock(self, reference):
        """Import Keras, once per grading process, before the first stand-in answer that must be computed (not found
        in the reference cache) with Keras: the import is the grader's own fixed cost (seconds on a busy machine),
        so it is left out of the calling cell's time limit, as the grader's checks are. The computation counts."""
        code = getattr(reference, "__code__", None)
        runs_keras = code is not None and any(name.startswith(("keras", "tf")) for name in code.co_names)
        if not runs_keras or "keras" in sys.modules:
            return
        started = time.monotonic()
        importlib.import_module("keras")
        self._keras_import_seconds += time.monotonic() - started

    async def _drain_iopub(self):
        """Discard what the kernel prints during calls: nothing a call prints reaches the feedback."""
        while True:
            try:
                await self.kc.iopub_channel.get_msg(timeout=1.0)
            except queue.Empty:
                continue


class _KernelDiedDuringCall(Exception):
    pass


# A worker (convcourse.grader.contained) starts its notebook's kernels before the notebook arrives, while the
# previous student's notebook is graded; they wait here until TrustedExecute takes them. Each is taken once.
_BOOTED = {"kernel": None, "handwritten": None}


async def boot_kernels(kernel_name, config, runtime, extra_arguments, log):
    """Start the kernels a notebook of ``runtime`` needs: the student's, and for a Keras assignment the NumPy-only
    kernel where its hand-written functions run."""
    _BOOTED["kernel"] = await _started(kernel_name, config, runtime, extra_arguments, log)
    if runtime == "keras":
        _BOOTED["handwritten"] = await _started(kernel_name, config, "numpy", extra_arguments, log)


async def _started(kernel_name, config, runtime, extra_arguments, log):
    km = SandboxKernelManager(kernel_name=kernel_name, config=config)
    km.runtime = runtime
    try:
        await km.start_kernel(extra_arguments=list(extra_arguments))
    except Exception as error:  # noqa: BLE001 (the notebook then starts its own kernel, as without booting)
        log.warning("a kernel booted ahead did not start (%s); the notebook starts its own", error)
        await km._async_cleanup_resources()
        return None
    return km


def _take_booted(which, runtime):
    """The kernel booted ahead as ``which``, if it is for ``runtime`` and still alive; any other is shut down."""
    km, _BOOTED[which] = _BOOTED[which], None
    if km is None:
        return None
    if km.runtime == runtime and run_sync(km.is_alive)():
        return km
    _shut(km)
    return None


def _shut(km):
    try:
        run_sync(km.shutdown_kernel)(now=True)
    except Exception:  # noqa: BLE001, S110 (the box is destroyed with the run's others anyway)
        pass


async def shut_booted():
    """Shut down kernels booted ahead and never taken (a worker that got no notebook)."""
    for which in _BOOTED:
        km, _BOOTED[which] = _BOOTED[which], None
        if km is not None:
            await km.shutdown_kernel(now=True)


REAP_CHILDREN = """import os as _os
while True:
    try:
        if _os.waitpid(-1, _os.WNOHANG)[0] == 0:
            break
    except ChildProcessError:
        break"""
NOTE_PREFIX = "Note from the grader:"


def owner(grade_id, functions):
    """The graded function a test cell belongs to: the longest ``f`` with ``grade_id`` = ``test_f`` or ``test_f_*``."""
    owners = [f for f in functions if grade_id == f"test_{f}" or grade_id.startswith(f"test_{f}_")]
    return max(owners, key=len) if owners else None


def _assignment_references(assignment):
    """What the assignment's references module declares: ``STAND_INS`` (a reference per graded function),
    ``HELPERS`` (which graded functions may call which: only those calls are answered by a reference),
    ``BUILDS_MODELS`` (functions that build Keras models, run unguarded) and ``MODEL_POLICIES`` (what a returned
    model may be, :mod:`convcourse.grader.modelcheck`)."""
    try:
        module = importlib.import_module(f"convcourse.assignments.a{assignment}.references")
    except ImportError:
        return AssignmentReferences({}, {}, frozenset(), {})
    return AssignmentReferences(
        dict(getattr(module, "STAND_INS", {})),
        {caller: frozenset(helpers) for caller, helpers in getattr(module, "HELPERS", {}).items()},
        frozenset(getattr(module, "BUILDS_MODELS", ())), dict(getattr(module, "MODEL_POLICIES", {})))


_GRADEBOOK_CELLS = {}


def gradebook_cells(db_url, notebook, assignment):
    """The instructor's cells of ``notebook`` as the gradebook keeps them: ``(tests, setups, functions)``, the test
    and setup sources by grade_id and the graded functions' names. Read once per process: a batch's parent reads
    them before its fork server starts, so that no worker opens the gradebook again."""
    key = (db_url, notebook, assignment)
    if key not in _GRADEBOOK_CELLS:
        from nbgrader.api import Gradebook

        with Gradebook(db_url) as gradebook:
            found = gradebook.find_notebook(notebook, assignment)
            grade_names = {cell.name for cell in found.grade_cells}
            solution_names = {cell.name for cell in found.solution_cells}
            sources = {cell.name: cell for cell in found.source_cells}
            tests = {name: sources[name].source for name in grade_names - solution_names if name in sources}
            setups = {name: cell.source for name, cell in sources.items()
                      if cell.cell_type == "code" and cell.locked and name not in grade_names | solution_names}
            functions = sorted(name for name in solution_names
                               if name in sources and sources[name].cell_type == "code")
        _GRADEBOOK_CELLS[key] = (tests, setups, functions)
    return _GRADEBOOK_CELLS[key]


AssignmentReferences = collections.namedtuple("AssignmentReferences", "stand_ins helpers builders model_policies")


def _tolerating_imports(source):
    """The instructor's setup ``source`` for the NumPy-only kernel: each statement on its own, an import of what
    that runtime lacks (Keras) skipped, the rest run."""
    statements = ast.parse(source).body
    return "\n".join(
        f"try:\n    exec({ast.get_source_segment(source, statement)!r})\nexcept ImportError:\n    pass"
        for statement in statements)


def _builder_key(calls):
    """What identifies a call of a model-building function (its plain arguments and seed), or ``None`` when the
    call is not one to remember (several calls at once, or arguments that are not plain values)."""
    if len(calls) != 1:
        return None
    name, args, seed = calls[0]
    try:
        return name, json.dumps([list(args), seed], allow_nan=False)
    except (TypeError, ValueError):
        return None


def _run_trusted(source, namespace, label):
    """Run instructor code in the grader; ``(ename, evalue)`` of its failure, or ``None`` when it passed."""
    try:
        exec(compile(source, f"<{label}>", "exec"), namespace)  # noqa: S102 (the gradebook's own source)
    except BaseException as error:  # noqa: BLE001 (any failure of a test cell is its verdict)
        return type(error).__name__, str(error)
    return None
