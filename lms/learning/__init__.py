"""The learner's path: dashboard, lessons, progress."""
