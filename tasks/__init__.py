"""Thin Prefect @task wrappers around the core: retries, backoff, run-context logging."""
