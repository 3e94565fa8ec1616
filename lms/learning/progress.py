"""Completion rules: pure functions over plain data, unit-tested without an app.

An item (lesson, quiz, final assessment or evaluation survey) is done when the learner has a progress record
for its key: lessons by "mark complete", graded quizzes by passing, surveys by submitting.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from lms.coursepacks.manifest import CompletionPolicy


@dataclass(frozen=True)
class SyllabusItem:
    key: str
    kind: str  # lesson | quiz | final | survey | pretest
    title: str = ""
    module_key: str = ""
    content_hash: str = ""


@dataclass(frozen=True)
class Record:
    """A learner's progress record for one item key: the version it was earned on and what it covered."""

    version_no: int
    content_hash: str = ""


def edition_done(
    items: Sequence[SyllabusItem], records: Mapping[str, Record], version_no: int, policy: Policy
) -> set[str]:
    """The items done *on this edition*.

    The final and the evaluation count only when done on this very version; any other item carries over
    from an earlier edition while its content is unchanged (a record or item without a hash, written before
    hashes existed, carries over too). A changed lesson must be read again.
    """
    done = set()
    for item in items:
        record = records.get(item.key)
        if record is None:
            continue
        if item.key in (policy.final_quiz, policy.evaluation):
            if record.version_no == version_no:
                done.add(item.key)
        elif not item.content_hash or not record.content_hash or record.content_hash == item.content_hash:
            done.add(item.key)
    return done


#: The completion policy as written in course.toml (lessons, quizzes, final quiz, evaluation).
Policy = CompletionPolicy


@dataclass(frozen=True)
class CourseProgress:
    done: int
    total: int
    lessons_done: int
    lessons_total: int
    next_item: SyllabusItem | None
    complete: bool

    @property
    def percent(self) -> int:
        return percent(self.done, self.total)

    @property
    def started(self) -> bool:
        return self.done > 0


def percent(done: int, total: int) -> int:
    """Whole percent, rounded down so 99.6% never shows as 100% before the end."""
    if total <= 0:
        return 0
    return min(100, (100 * done) // total)


def required_keys(items: Sequence[SyllabusItem], policy: Policy) -> list[str]:
    """The items a learner must finish to complete the course, in syllabus order."""
    keys = []
    for item in items:
        if item.kind == "lesson":
            needed = policy.require_all_lessons
        elif item.kind == "survey":
            needed = item.key == policy.evaluation
        elif item.kind == "pretest":
            needed = False
        elif policy.require_quizzes == "all":
            needed = True
        elif policy.require_quizzes == "final":
            needed = item.key == policy.final_quiz
        else:
            needed = False
        if needed:
            keys.append(item.key)
    return keys


def gated_keys(policy: Policy) -> tuple[str, ...]:
    """The items a gated policy holds back: the final assessment and the evaluation (when named)."""
    if not policy.gated:
        return ()
    return tuple(key for key in (policy.final_quiz, policy.evaluation) if key)


def blocking_items(
    items: Sequence[SyllabusItem], done: Collection[str], policy: Policy, key: str
) -> list[SyllabusItem]:
    """What must still be done (on this edition) before ``key`` may be started, in syllabus order.

    Under a gated policy the final opens when every other required item is done, and the evaluation when
    everything else required, the final included, is done: an evaluation before the final, or a final
    before the lessons are read, is what an accreditor would not accept. Ungated items, or an ungated
    policy, are never blocked.
    """
    if key not in gated_keys(policy):
        return []
    held_back = {policy.final_quiz, policy.evaluation} if key == policy.final_quiz else {key}
    required = set(required_keys(items, policy)) - held_back
    if key == policy.evaluation and policy.final_quiz:
        required.add(policy.final_quiz)  # the final opens the evaluation even when quizzes are not required
    return [item for item in items if item.key in required and item.key not in done]


def gate_open(items: Sequence[SyllabusItem], done: Collection[str], policy: Policy, key: str) -> bool:
    """May ``key`` be started now? (True for every item that is not gated.)"""
    return not blocking_items(items, done, policy, key)


def next_item(items: Sequence[SyllabusItem], done: Collection[str]) -> SyllabusItem | None:
    """Where to resume: the first item in syllabus order not yet done (None when everything is done)."""
    return next((item for item in items if item.key not in done), None)


def course_progress(items: Sequence[SyllabusItem], done: Collection[str], policy: Policy) -> CourseProgress:
    """Progress towards completion. Records for items no longer in the course are ignored, never lost."""
    current = {item.key for item in items}
    finished = set(done) & current
    required = required_keys(items, policy)
    lessons = [i.key for i in items if i.kind == "lesson"]
    return CourseProgress(
        done=sum(1 for key in required if key in finished),
        total=len(required),
        lessons_done=sum(1 for key in lessons if key in finished),
        lessons_total=len(lessons),
        next_item=next_item(items, finished),
        complete=bool(required) and all(key in finished for key in required),
    )


def neighbours(items: Sequence[SyllabusItem], key: str) -> tuple[SyllabusItem | None, SyllabusItem | None]:
    """The previous and next items around ``key`` in syllabus order."""
    keys = [i.key for i in items]
    if key not in keys:
        return None, None
    i = keys.index(key)
    return (items[i - 1] if i > 0 else None, items[i + 1] if i + 1 < len(items) else None)
