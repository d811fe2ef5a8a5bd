"""An nbgrader ``Execute`` preprocessor that survives what a hostile or broken submission does to its kernel.

nbgrader gives up on the whole notebook when the kernel dies (``os._exit``, a crash, the memory limit) or
stops answering after a timed-out cell (a loop that swallows ``KeyboardInterrupt``). Then the student gets
no grade at all. Here the cell that did it gets an error output that says what happened, the kernel is
restarted, the notebook's earlier non-test cells (setup and answers) are run again quietly, and grading
goes on; if the kernel cannot be brought back, every remaining code cell gets an error output instead.
Either way the student's test cells are scored and the reason is in the autograded notebook and feedback.
"""

import asyncio
import copy

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_sync
from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import Execute
from traitlets import Integer

KERNEL_DIED = ("KernelDied", "the kernel died while running this cell (os._exit, a crash, or the memory limit); "
               "it was restarted and your earlier cells were run again")
KERNEL_STUCK = ("KernelUnresponsive", "this cell ran past the time limit and ignored the interrupt; "
                "the kernel was restarted and your earlier cells were run again")
NOT_RUN = ("NotRun", "not run: the kernel could not be restarted after an earlier cell ({reason})")


def _error_output(ename, evalue):
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
        if msg["msg_type"] not in ("stream", "display_data", "update_display_data"):
            return super().output(outs, msg, display_id, cell_index)  # errors and results always count
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
            cell.outputs = [_error_output(NOT_RUN[0], NOT_RUN[1].format(reason=self._lost_reason))]
            return cell
        try:
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        except (DeadKernelError, _KernelStuck, CellTimeoutError) as problem:
            ename, evalue = KERNEL_DIED if isinstance(problem, DeadKernelError) else KERNEL_STUCK
            self.log.warning("Cell %s: %s; restarting the kernel", cell_index, ename)
            cell.outputs = [_error_output(ename, evalue)]
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


class _KernelStuck(Exception):
    """The kernel ignored the interrupt sent after a timeout."""
