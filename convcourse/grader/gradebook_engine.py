"""One SQLAlchemy engine per database in an nbgrader command, not one per ``Gradebook`` opened.

nbgrader opens its gradebook about ten times for every notebook it autogrades (its converter and each of its
preprocessors), and each ``Gradebook`` creates an engine of its own, whose statements SQLAlchemy compiles anew:
it keeps compiled statements per engine. In a command run by :mod:`convcourse.grader.nbgrader_runner`, every
``Gradebook`` of one database shares one engine, made on first use by that command's own process.
``Gradebook.close`` still disposes of the engine's connections, as before: the next ``Gradebook`` connects
afresh, and only the compiled statements carry over.
"""

import os

from nbgrader import api

_create_engine = api.create_engine
_ENGINES = {}


def _shared_engine(url, **options):
    # Keyed by process too: an engine's connections must never be used by a forked child.
    key = (os.getpid(), str(url), repr(sorted(options.items())))
    if key not in _ENGINES:
        _ENGINES[key] = _create_engine(url, **options)
    return _ENGINES[key]


def share_engines():
    """From now on, in this process and its forks, ``nbgrader.api.Gradebook`` takes the shared engine."""
    api.create_engine = _shared_engine
