"""Named events a lower area sends so that higher areas can react without being imported from below.

Receivers run in the sender's transaction (after its ``flush()``), so one commit keeps all of it or none.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: a learner left a course: ``sender`` is the Course; ``user_id`` and ``now`` are passed as keywords.
#: The quizzes area freezes the learner's open attempts in that course.
course_left = _signals.signal("course-left")
