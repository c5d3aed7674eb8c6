"""The ``tradingstation blocks`` and ``tradingstation alerts`` commands (Prefect set-up)."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.common import JsonOption, console, load_settings, print_json

app = typer.Typer(
    help="Prefect blocks: Spaces storage, the Alpha Vantage key, the alert webhook.",
    no_args_is_help=True,
)
alerts_app = typer.Typer(
    help="Prefect automations that alert when a run fails or is late.", no_args_is_help=True
)


@app.command("register")
def register(json_out: JsonOption = False) -> None:
    """Create or update the blocks from TS_* variables (safe to run again).

    Reads TS_S3_BUCKET, TS_S3_ENDPOINT_URL, TS_S3_REGION, TS_S3_ACCESS_KEY_ID,
    TS_S3_SECRET_ACCESS_KEY, TS_S3_PREFIX (AwsCredentials + S3Bucket named TS_S3_BLOCK),
    TS_ALPHAVANTAGE_API_KEY (Secret named TS_ALPHAVANTAGE_SECRET_BLOCK) and TS_WEBHOOK_URL
    (notification block 'tradingstation-alerts'). Needs PREFECT_API_URL to point at your
    server; without it the blocks go to the local ephemeral database.
    """
    settings = load_settings()
    # Prefect is imported only here: the core and `--help` never pay for it.
    from blocks.register import register_blocks

    result = register_blocks(settings)
    if json_out:
        print_json({"written": [list(w) for w in result.written], "skipped": result.skipped})
        return
    for block_type, name in result.written:
        console.print(f"[green]saved[/] {block_type} [bold]{name}[/]")
    for line in result.skipped:
        console.print(f"[yellow]skipped[/] {line}")


@alerts_app.command("create")
def create(
    deadline_minutes: Annotated[
        int,
        typer.Option(
            "--deadline-minutes", min=1, help="Minutes a started session run may take."
        ),
    ] = 45,
    block: Annotated[
        str, typer.Option("--block", help="Notification block to send through.")
    ] = "tradingstation-alerts",
    json_out: JsonOption = False,
) -> None:
    """Create or replace the automations (safe to run again).

    One fires when a run of a tradingstation deployment ends Failed, Crashed or TimedOut; one
    when a run is Late or has not finished DEADLINE minutes after it started. Both send the
    flow, run, failure message and a link to the run through the notification block.
    """
    from deploy.alerts import create_alerts

    result = create_alerts(block_name=block, deadline_minutes=deadline_minutes)
    if json_out:
        print_json({"automations": {k: str(v) for k, v in result.automations.items()},
                    "created": result.created})
        return
    for name, automation_id in result.automations.items():
        verb = "created" if name in result.created else "replaced"
        console.print(f"[green]{verb}[/] automation [bold]{name}[/] ({automation_id})")
