"""Deployment commands.

``verify-deployment``, ``smoke-test``, ``cancel``, ``pause``, ``resume`` (the runbook's
verify_deployment.py, smoke_test_e2e.py and its emergency stop, done safely).

Registered as top-level commands: ``app.command("verify-deployment")(deploy_cmd.verify_deployment)``
and so on. Prefect client code lives in ``deploy/`` and is imported only when a command runs.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cli.common import JsonOption, console, load_settings, print_json, running
from flows.ephemeral import run_once
from tradingstation.calendar import parse_as_of
from tradingstation.errors import ConfigError, InputError

STATUS_STYLE = {"pass": "green", "warn": "yellow", "fail": "red", "skip": "dim"}


def verify_deployment(json_out: JsonOption = False) -> None:
    """Check that the deployed setup is complete and reachable.

    Check settings, the Prefect API, blocks, the bucket (write probe), the API key, the deployments
    and their schedules (against prefect.yaml) and the work pool.

    Each check prints pass / warn / fail / skip and its fix. Without a Prefect API
    (PREFECT_API_URL unset) the block, deployment and work-pool checks are skipped, not
    failed. Exit code 1 when any check fails.
    """
    from deploy.deployments import Finding

    try:
        settings = load_settings()
    except ConfigError as exc:
        findings = [Finding("settings", "fail", str(exc),
                            "fix the named TS_ variable (see `tradingstation config show`)")]
    else:
        findings = [Finding("settings", "pass", f"loaded: storage {settings.storage_backend}, "
                            f"provider {settings.resolved_provider}")]
        from deploy.verification import verify_deployment as run_checks

        with console.status("checking the deployment"):
            findings += run_checks(settings)
    failed = [f for f in findings if f.status == "fail"]
    if json_out:
        print_json({"ok": not failed, "checks": [f.__dict__ for f in findings]})
    else:
        for f in findings:
            style = STATUS_STYLE[f.status]
            console.print(f"[{style}]{f.status.upper():4}[/] {escape(f.name)}: {escape(f.detail)}",
                          highlight=False, soft_wrap=True)
            if f.fix and f.status != "pass":
                console.print(f"     fix: {escape(f.fix)}", highlight=False, soft_wrap=True)
        console.print(f"{len(failed)} failed, "
                      f"{sum(f.status == 'warn' for f in findings)} warnings, "
                      f"{sum(f.status == 'skip' for f in findings)} skipped")
    if failed:
        raise typer.Exit(1)


def smoke_test(
    use_configured_provider: Annotated[bool, typer.Option(
        "--use-configured-provider",
        help="Use the configured provider (spends API calls) instead of the demo market.")] = False,
    demo_symbols: Annotated[int, typer.Option(
        "--demo-symbols", min=5, max=1000, help="Demo market size.")] = 30,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Reference time; modes run on the last session completed by then.")] = None,
    json_out: JsonOption = False,
) -> None:
    """Run every session mode end to end in a scratch prefix of the configured store.

    Run premarket, market, postmarket and daily end to end in a scratch prefix (smoke/<run>/) of the
    configured store, check each mode's outputs, delete the prefix.

    Live data is never touched. Exit code 1 when any mode fails or leaves outputs missing.
    """
    load_settings()
    if as_of is not None:
        parse_as_of(as_of)
    from flows.smoke import smoke_test as smoke_flow

    with running(smoke_flow, "smoke test"):
        result = run_once(smoke_flow, use_configured_provider=use_configured_provider,
                          demo_symbols=demo_symbols, as_of=as_of)
    if json_out:
        print_json(result)
    else:
        table = Table(header_style="bold", title_justify="left",
                      title=f"smoke test on {result['session']} in {result['prefix']}")
        for name in ("mode", "result", "detail"):
            table.add_column(name, overflow="fold")
        for mode, row in result["modes"].items():
            detail = row.get("error") or (f"missing: {', '.join(row['missing'])}"
                                          if row["missing"] else "outputs present")
            table.add_row(mode, "[green]pass[/]" if row["ok"] else "[red]fail[/]",
                          escape(detail))
        console.print(table)
        console.print(f"scratch prefix deleted ({result['deleted']} objects, "
                      f"{result['left_behind']} left behind)")
    if not result["ok"]:
        raise typer.Exit(1)


def cancel(
    all_runs: Annotated[bool, typer.Option(
        "--all", help="Every running/pending/due run of our deployments.")] = False,
    deployment: Annotated[str | None, typer.Option(
        "--deployment", help="Only this deployment (flow/name or flow name).")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    json_out: JsonOption = False,
) -> None:
    """Cancel the running, pending and due runs of TradingStation's deployments.

    Cancel running, pending and due scheduled runs of TradingStation's deployments (those in
    prefect.yaml) through the Prefect API: the runbook's emergency stop, without killing anything
    else. Needs a Prefect server (PREFECT_API_URL).
    """
    if not all_runs and not deployment:
        raise InputError("choose what to cancel: --all, or --deployment NAME")
    from blocks.resolve import api_configured
    from deploy.deployments import cancel_runs, cancellable_runs

    if not api_configured():
        raise ConfigError("cancel needs a Prefect server: set PREFECT_API_URL (a local run "
                          "started from this terminal stops with Ctrl-C)")
    runs = cancellable_runs(None if all_runs else deployment)
    if not runs:
        if json_out:
            print_json({"cancelled": []})
        else:
            console.print("nothing to cancel: no running, pending or due runs")
        return
    if not json_out:
        for run in runs:
            console.print(f"{run.deployment}  {run.name}  {run.state}  {run.id}",
                          highlight=False)
    if not yes:
        typer.confirm(f"cancel these {len(runs)} run(s)?", abort=True)
    results = cancel_runs(runs)
    if json_out:
        print_json({"cancelled": results})
        return
    for row in results:
        verb = "cancelling" if row["accepted"] else "not accepted"
        console.print(f"{verb}: {row['deployment']} {row['name']} -> {row['state']}",
                      highlight=False)


DeploymentOption = Annotated[str | None, typer.Option(
    "--deployment", help="Only this deployment (flow/name or flow name); default: every "
    "scheduled deployment of prefect.yaml.")]


def _set_paused(paused: bool, deployment: str | None, json_out: bool) -> None:
    from deploy.schedules import set_paused

    rows = set_paused(paused, deployment)
    if json_out:
        print_json({"paused": paused, "deployments": [r.__dict__ for r in rows]})
        return
    verb = "paused" if paused else "resumed"
    for row in rows:
        note = verb if row.was_paused != row.paused else f"already {verb}"
        console.print(f"{row.deployment}: {note}", highlight=False)


def pause(deployment: DeploymentOption = None, json_out: JsonOption = False) -> None:
    """Pause the schedules of TradingStation's deployments.

    Pause the schedules of TradingStation's deployments (those in prefect.yaml) through the Prefect
    API: no new scheduled runs, and runs already scheduled are removed. Running runs go on (stop
    them with `tradingstation cancel`). Undo with `tradingstation resume`.
    """
    _set_paused(True, deployment, json_out)


def resume(deployment: DeploymentOption = None, json_out: JsonOption = False) -> None:
    """Resume the schedules paused by `tradingstation pause`."""
    _set_paused(False, deployment, json_out)
