# Replace the kernel's side of the grader's calls: answer with links to the grader's files and malformed replies.
import json
import os

import convcourse.student.callee as callee


def forged_serve(number, requests, results):
    with open(os.path.join(requests, f"{number}.json")) as handle:
        calls = json.load(handle)["calls"]
    os.symlink("/etc/passwd", os.path.join(results, f"{number}-r1.npy"))
    replies = [{"status": "returned", "value": {"kind": "array", "file": f"{number}-r1.npy"}} for _ in calls]
    if number % 2:
        replies = [{"status": "returned", "value": {"kind": "array", "file": "../../../etc/passwd"}} for _ in calls]
    with open(os.path.join(results, f"{number}-result.json"), "w") as handle:
        json.dump({"replies": replies}, handle)


callee.serve = forged_serve


def corr2d(image, kernel):
    raise NotImplementedError()
