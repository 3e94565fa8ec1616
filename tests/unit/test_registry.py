"""The question-type registry: built-ins plus entry points, read-only, failing on duplicates."""

from __future__ import annotations

import pytest

from lms.plugins import PluginError, QuestionTypeRegistry, UnknownQuestionType, build_registries
from lms.qtypes import BUILTIN_TYPES
from lms.qtypes.base import QuestionType
from lms.qtypes.choice import SingleChoice


def test_builtins_and_installed_plugin_are_registered():
    registry = build_registries().question_types
    for name in (
        "single_choice",
        "multiple_response",
        "true_false",
        "numeric",
        "short_answer",
        "ordering",
        "matching",
        "likert",
        "free_text",
    ):
        assert name in registry
    # The third-party distribution installed in the test environment (tests/plugins/lms-example-qtype).
    assert "keyword" in registry
    assert registry.get("keyword").label == "Keyword answer"


def test_duplicate_names_fail_at_start_up():
    class Impostor(QuestionType):
        name = "single_choice"
        label = "Fake"

    with pytest.raises(PluginError, match='Duplicate question type "single_choice"'):
        QuestionTypeRegistry.build(BUILTIN_TYPES, [("entry point 'x' of evil-dist", Impostor)])


def test_nameless_plugin_fails():
    class Nameless(QuestionType):
        label = "?"

    with pytest.raises(PluginError, match="has no 'name'"):
        QuestionTypeRegistry.build([Nameless])


def test_unknown_type_has_a_clear_error():
    registry = QuestionTypeRegistry.build([SingleChoice])
    with pytest.raises(UnknownQuestionType, match='Unknown question type "essay"'):
        registry.get("essay")


def test_registry_is_read_only():
    registry = QuestionTypeRegistry.build([SingleChoice])
    with pytest.raises(TypeError):
        registry._types["x"] = object()  # type: ignore[index]


def test_registry_lives_on_the_app(app):
    assert "single_choice" in app.extensions["lms"].question_types
