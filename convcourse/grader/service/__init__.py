"""The grading service: Celery workers on any number of machines, a Redis broker, the gradebook in PostgreSQL.

Without ``CONVCOURSE_SERVICE`` nothing here runs and grading is local (``make autograde``: processes on this
machine, nbgrader's SQLite gradebook). With it (``redis://HOST:PORT/0 postgresql://USER@HOST:PORT/DB``) the same
commands go through the service:

* :mod:`.settings` reads that one setting;
* :mod:`.store` is the service's own table of submissions (queued, running, graded, failed, over the quota), in
  the same PostgreSQL database as nbgrader's gradebook;
* :mod:`.tasks` is the Celery app and its one task: grade one submission with nbgrader's own ``autograde`` and
  ``generate_feedback`` for that student, in a working course folder of its own (so whatever per-student
  containment the grading has is used as is); the notebook travels in the task, the autograded notebook and the
  feedback page come back in its result and in the table;
* :mod:`.watcher` puts new submissions of a JupyterHub exchange (and of ``make collect-zip``) on the queue,
  within each student's daily quota, releases feedback into the exchange as soon as it is graded, and reconciles
  what was submitted with what was graded;
* :mod:`.servers` starts a private Redis and PostgreSQL on this machine (tests, the benchmark, a trial);
* ``python -m convcourse.grader.service`` is the command line behind the make targets.
"""
