"""Live triggers: watch the session's open ideas and alert when one triggers."""
