"""Plugin registries, built once at start-up from built-ins plus entry point groups.

They sit at the bottom of the import graph: they know the plugin interfaces and the entry point groups, and
nothing else. Loaders, services and forms ask the registry; the registry never imports them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from types import MappingProxyType
from typing import Any

QUESTION_TYPE_GROUP = "lms.question_types"
COURSE_GROUP = "lms.courses"


class PluginError(RuntimeError):
    """A plugin could not be registered (duplicate name, bad object, import failure)."""


class UnknownQuestionType(LookupError):
    """A question names a type that no installed plugin provides."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f'Unknown question type "{name}": no installed plugin provides it. '
            "Install the plugin that defines it, or change the question's type."
        )
        self.name = name


@dataclass(frozen=True)
class QuestionTypeRegistry:
    """Read-only map of question type name → question type instance."""

    _types: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def build(
        cls, builtins: Iterable[type], plugins: Iterable[tuple[str, type]] = ()
    ) -> QuestionTypeRegistry:
        types: dict[str, Any] = {}
        origin: dict[str, str] = {}
        candidates = [("built-in", t) for t in builtins] + list(plugins)
        for source, qtype_cls in candidates:
            name = getattr(qtype_cls, "name", None)
            if not isinstance(name, str) or not name:
                raise PluginError(f"Question type from {source} has no 'name' attribute.")
            if name in types:
                raise PluginError(
                    f'Duplicate question type "{name}": defined by {origin[name]} and by {source}.'
                )
            types[name] = qtype_cls()
            origin[name] = source
        return cls(MappingProxyType(types))

    def get(self, name: str) -> Any:
        try:
            return self._types[name]
        except KeyError:
            raise UnknownQuestionType(name) from None

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __iter__(self) -> Iterator[str]:
        return iter(self._types)

    def names(self) -> list[str]:
        return sorted(self._types)

    def items(self) -> list[tuple[str, Any]]:
        return sorted(self._types.items())


@dataclass(frozen=True)
class Registries:
    question_types: QuestionTypeRegistry
    course_entry_points: tuple[EntryPoint, ...]


def _load_entry_points(group: str) -> list[EntryPoint]:
    return sorted(entry_points(group=group), key=lambda ep: (ep.name, ep.value))


def question_type_plugins() -> list[tuple[str, type]]:
    found = []
    for ep in _load_entry_points(QUESTION_TYPE_GROUP):
        dist = ep.dist.name if ep.dist else "unknown distribution"
        try:
            obj = ep.load()
        except Exception as exc:  # a broken plugin must say which one it is
            raise PluginError(f"Cannot load question type plugin {ep.name!r} from {dist}: {exc}") from exc
        found.append((f"entry point {ep.name!r} of {dist}", obj))
    return found


def build_registries() -> Registries:
    from lms.qtypes import BUILTIN_TYPES

    return Registries(
        question_types=QuestionTypeRegistry.build(BUILTIN_TYPES, question_type_plugins()),
        course_entry_points=tuple(_load_entry_points(COURSE_GROUP)),
    )
