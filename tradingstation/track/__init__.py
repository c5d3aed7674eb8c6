"""Track record: outcomes of signals in R (model, replay, statistics, live record)."""
