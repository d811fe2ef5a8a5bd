"""Bounds on the text a submission can make the grader keep or show (failure messages, outputs, nbgrader's errors).

A student's code chooses how long its outputs and error messages are; whatever the grader stores or prints from
them (the feedback page, the per-assignment report, the class report) is cut to a bound and says how much was cut,
so that one submission cannot make a page or a report of tens of megabytes.
"""


def cut_note(count):
    """The note that replaces ``count`` characters that were cut."""
    return f"[… cut: {count:,} characters]"


def cut(text, limit, separator=" "):
    """``text`` when it has at most ``limit`` characters; otherwise its first ``limit`` characters, ``separator`` and
    the note ``[… cut: N characters]`` (N: those left out)."""
    text = str(text)
    if len(text) <= limit:
        return text
    return text[:limit] + separator + cut_note(len(text) - limit)


def cut_lines(lines, limit):
    """The first ``limit`` characters of ``lines`` (a traceback), the line that crosses it cut, then a note of what
    was left out."""
    kept, left = [], limit
    for position, line in enumerate(lines):
        line = str(line)
        if len(line) > left:
            kept.append(cut(line, left))
            rest = sum(len(str(other)) for other in lines[position + 1:])
            if rest:
                kept.append(cut_note(rest))
            break
        kept.append(line)
        left -= len(line)
    return kept
