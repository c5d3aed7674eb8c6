"""Operations: backup/restore, integrity verification, gaps, cleanup, health, deployment checks."""
