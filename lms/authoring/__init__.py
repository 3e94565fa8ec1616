"""Educators' side: a course's draft (the package itself, as files), publishing, history, import/export."""
