"""Reports for a course's owners, co-authors and administrators: funnel, learners, quizzes, evaluation."""
