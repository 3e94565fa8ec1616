"""Named signals: how a lower area lets higher ones react without importing them.

Every signal is sent after ``flush()``, inside the sender's transaction: listeners write in the same
transaction, so one commit keeps all of it or none. Listeners subscribe at start-up, in their area's
``init_app``.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: A learner's progress record for an item was written (first completion, or a re-read of a changed item).
#: Keyword arguments: ``user_id``, ``course_id``, ``item_key``, ``version_no``, ``now``.
item_completed = _signals.signal("item-completed")
#: a learner left a course: ``sender`` is the Course; ``user_id`` and ``now`` are passed as keywords.
#: The quizzes area freezes the learner's open attempts in that course.
course_left = _signals.signal("course-left")
#: an account's email address was confirmed for the first time (registration finished): ``sender`` is the
#: User; ``now`` is passed as a keyword. The authoring area turns pending co-author invitations to that
#: address into co-authorships.
email_confirmed = _signals.signal("email-confirmed")
