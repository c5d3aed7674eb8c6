"""Prefect server administration: the deployments declared in prefect.yaml (queries, schedules,
cancelling), their pull step, alert automations and ``verify-deployment``. Sits above flows
(it reads their names from the entrypoints) and blocks (it checks the registered ones)."""
