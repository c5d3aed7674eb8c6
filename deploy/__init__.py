"""Prefect server administration.

The deployments declared in prefect.yaml (queries, schedules, cancelling), their pull step, alert
automations and ``verify-deployment``. Sits below flows/ (the health flow asks it about the
deployments): it reads the flow names of prefect.yaml's entrypoints from their source, as data, and
never imports a flow. Uses blocks/ and the core.
"""
