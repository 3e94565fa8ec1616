"""Background jobs of the reports area."""

from __future__ import annotations

from lms import jobs
from lms.catalog.models import Course
from lms.extensions import db
from lms.reports.services import compute_statistics
from lms.timeutil import utcnow


@jobs.job
def refresh_statistics(course_id: int) -> None:
    """Recompute a course's quiz and item statistics. Idempotent: it replaces the course's rows.

    The job runner commits after it returns (see ``lms.jobs.execute``).
    """
    course = db.session.get(Course, course_id)
    if course is None or course.current_version_no == 0:
        return
    compute_statistics(course, utcnow())
