"""Frozen dataclasses for a parsed, validated course package."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from lms.coursepacks.timing import course_minutes, quiz_minutes

PROFESSION_KEYS = ("physician", "nurse", "pharmacist", "genetic_counsellor", "researcher", "other")
#: "pretest" is an optional, ungraded self-check before the course: scored for the learner, never required.
QUIZ_KINDS = ("quiz", "final", "survey", "pretest")
GRADING_METHODS = ("highest", "latest", "first", "average")
REVIEW_POLICIES = ("score", "correctness", "answers", "after_pass", "never")
NAVIGATION = ("one_page", "sequential")
#: the question tag that marks a clinical vignette; a drawn final is at least half vignettes
VIGNETTE = "vignette"


@dataclass(frozen=True)
class Problem:
    """One validation problem, located by file and field or line."""

    file: str
    message: str
    where: str = ""

    def __str__(self) -> str:
        return f"{self.file}: {self.where}: {self.message}" if self.where else f"{self.file}: {self.message}"


@dataclass(frozen=True)
class Faculty:
    name: str
    role: str
    credentials: str
    disclosure: str


@dataclass(frozen=True)
class Reference:
    key: str
    number: int
    citation: str
    doi: str = ""
    pmid: str = ""
    url: str = ""


@dataclass(frozen=True)
class Credit:
    """Credit offered. Unless ``accredited``, pages and certificates say "Certificate of participation: N
    hours" and print no credit type, designation or accreditation statement. Statements may use the
    ``{provider}`` and ``{credits}`` placeholders, filled at issue."""

    hours: float
    type: str = ""
    statement: str = ""
    accreditation: str = ""
    accredited: bool = False


@dataclass(frozen=True)
class Dates:
    release: date
    last_review: date
    expiry: date


@dataclass(frozen=True)
class CompletionPolicy:
    require_all_lessons: bool = True
    require_quizzes: str = "all"  # all | final | none
    final_quiz: str = ""
    evaluation: str = ""
    #: the final and the evaluation open only when every other required item is done
    gated: bool = True
    #: minutes of recorded activity needed before credit can be claimed (0: no minimum)
    min_minutes: int = 0


@dataclass(frozen=True)
class CertificatePolicy:
    """How long a certificate for this edition stays valid (0 months: it does not expire)."""

    validity_months: int = 0


@dataclass(frozen=True)
class QuestionDef:
    key: str
    type: str
    position: int
    points: float
    prompt_html: str
    explanation_html: str
    reference: str
    #: the question as authored (type-specific fields included), validated by its question type
    spec: dict[str, Any] = field(hash=False, compare=True)


@dataclass(frozen=True)
class QuizSettings:
    pass_mark: float = 80.0
    max_attempts: int = 0
    #: attempts come in sets of this many (0: no sets); a used-up set locks the quiz for ``lockout_hours``
    attempts_per_set: int = 0
    #: hours after the last submission of a used-up set before the next set opens
    lockout_hours: int = 0
    cooldown_minutes: int = 0
    time_limit_minutes: int = 0
    shuffle_questions: bool = False
    shuffle_options: bool = True
    draw: int = 0
    grading_method: str = "highest"
    review: str = "answers"
    navigation: str = "one_page"
    #: one_page navigation split into pages of this many questions (0: all on one page)
    questions_per_page: int = 0
    #: the quiz opens and closes at these moments (TOML date-times; None: always open)
    opens_at: datetime | None = None
    closes_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        # Settings added later are left out while unset, so quizzes synced before them keep their hash.
        out = {name: getattr(self, name) for name in self.__dataclass_fields__}
        if not out["questions_per_page"]:
            del out["questions_per_page"]
        for name in ("opens_at", "closes_at"):
            if out[name] is None:
                del out[name]
            else:
                out[name] = out[name].isoformat()  # stored as JSON
        return out


@dataclass(frozen=True)
class Quiz:
    key: str
    path: str
    title: str
    kind: str
    intro_html: str
    settings: QuizSettings
    questions: tuple[QuestionDef, ...]

    @property
    def graded(self) -> bool:
        return self.kind != "survey"

    @property
    def asked(self) -> int:
        """How many questions one attempt asks: the draw if set, else all of them."""
        n = len(self.questions)
        return min(n, self.settings.draw) if self.settings.draw else n

    @property
    def minutes(self) -> int:
        return quiz_minutes(self.kind, self.asked)


@dataclass(frozen=True)
class Lesson:
    key: str
    path: str
    title: str
    minutes: int
    html: str
    citations: tuple[str, ...]


@dataclass(frozen=True)
class Module:
    key: str
    title: str
    summary: str
    items: tuple[Lesson | Quiz, ...]


@dataclass(frozen=True)
class MediaFile:
    path: str
    mime: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class CoursePackage:
    slug: str
    title: str
    edition: str
    summary: str
    audience: tuple[str, ...]
    specialties: tuple[str, ...]
    objectives: tuple[str, ...]
    estimated_minutes: int
    status: str
    how_to_participate: str
    credit: Credit
    dates: Dates
    faculty: tuple[Faculty, ...]
    references: tuple[Reference, ...]
    completion: CompletionPolicy
    modules: tuple[Module, ...]
    media: tuple[MediaFile, ...]
    checksum: str
    certificate: CertificatePolicy = CertificatePolicy()
    #: why the activity exists: the practice gap it addresses (shown before the learner starts)
    needs: str = ""
    #: the commercial-support statement (e.g. "This activity received no commercial support.")
    commercial_support: str = ""

    def lessons(self) -> list[Lesson]:
        return [i for m in self.modules for i in m.items if isinstance(i, Lesson)]

    def quizzes(self) -> list[Quiz]:
        return [i for m in self.modules for i in m.items if isinstance(i, Quiz)]

    @property
    def total_minutes(self) -> int:
        """The honest course total: every lesson and quiz, the optional pre-test left out."""
        return course_minutes(
            [
                ("lesson", i.minutes) if isinstance(i, Lesson) else (i.kind, i.minutes)
                for m in self.modules
                for i in m.items
            ]
        )

    def cited_reference_keys(self) -> list[str]:
        """Reference keys cited by a lesson or a question, in the order of the manifest's list."""
        cited = {k for lesson in self.lessons() for k in lesson.citations}
        cited |= {q.reference for quiz in self.quizzes() for q in quiz.questions if q.reference}
        return [r.key for r in self.references if r.key in cited]

    def metadata(self) -> dict[str, Any]:
        """The manifest facts shown to learners, as JSON-able data."""
        return {
            "audience": list(self.audience),
            "specialties": list(self.specialties),
            "objectives": list(self.objectives),
            "how_to_participate": self.how_to_participate,
            "needs": self.needs,
            "commercial_support": self.commercial_support,
            "credit": {
                "hours": self.credit.hours,
                "type": self.credit.type,
                "statement": self.credit.statement,
                "accreditation": self.credit.accreditation,
                "accredited": self.credit.accredited,
            },
            "certificate": vars(self.certificate),
            "dates": {
                "release": self.dates.release.isoformat(),
                "last_review": self.dates.last_review.isoformat(),
                "expiry": self.dates.expiry.isoformat(),
            },
            "faculty": [vars(f) for f in self.faculty],
            "references": [vars(r) for r in self.references],
            # the course page lists only these (numbers stay those of the full list, as cited in the text)
            "cited_references": self.cited_reference_keys(),
            "completion": vars(self.completion),
        }
