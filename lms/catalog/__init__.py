"""Courses, versions, modules, lessons and enrolment."""
