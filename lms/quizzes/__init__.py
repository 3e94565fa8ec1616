"""Quizzes: stored quizzes and questions, attempts, grading, GIFT import and export."""
