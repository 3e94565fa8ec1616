"""Administration: users, roles, outbox."""
