"""The builtins the grading checks rely on, bound once, when the course's checks are first imported.

The locked setup cell of every assignment imports the checks before any student cell runs, so a student
cell that later replaces ``builtins.len``, ``builtins.isinstance`` or ``AssertionError`` does not reach
modules that take these names from here (``from convcourse.student.pristine import len, isinstance``): module
globals shadow builtins.
"""

import builtins as _builtins

AssertionError = _builtins.AssertionError
BaseException = _builtins.BaseException
Exception = _builtins.Exception
TypeError = _builtins.TypeError
ValueError = _builtins.ValueError
all = _builtins.all
any = _builtins.any
bool = _builtins.bool
enumerate = _builtins.enumerate
float = _builtins.float
getattr = _builtins.getattr
int = _builtins.int
isinstance = _builtins.isinstance
len = _builtins.len
list = _builtins.list
next = _builtins.next
repr = _builtins.repr
sorted = _builtins.sorted
sum = _builtins.sum
str = _builtins.str
tuple = _builtins.tuple
type = _builtins.type
zip = _builtins.zip
