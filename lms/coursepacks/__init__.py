"""The course package format: reading, parsing and validating packages into frozen dataclasses."""
