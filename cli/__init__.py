"""The ``tradingstation`` console script: one Typer app that every area registers commands on.

To add a command group, create ``cli/<area>_cmd.py`` with
``app = typer.Typer(help=..., no_args_is_help=True)`` and its ``@app.command()`` functions, then add
one line to the registration block below. Commands raise ``tradingstation.errors`` exceptions;
:func:`main` turns them into one ``error: ...`` line and an exit code.
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Annotated

import typer
from pydantic import ValidationError

from cli import (
    analysis_cmd,
    blocks_cmd,
    config_cmd,
    dashboard_cmd,
    data_cmd,
    deploy_cmd,
    fetch_cmd,
    health_cmd,
    run_cmd,
    storage_cmd,
    track_cmd,
    watch_cmd,
)
from cli.common import (
    exit_code_for,
    is_expected,
    print_error,
    settings_error_message,
)
from tradingstation import __version__
from tradingstation.config import environment_secrets, get_settings
from tradingstation.logs import LEVELS, configure_logging
from tradingstation.redaction import redact

app = typer.Typer(
    name="tradingstation",
    help="TradingStation: US-equities screening and trade planning on Prefect.\n\n"
    "Configuration comes from TS_* environment variables (see `tradingstation config show`).",
    rich_markup_mode="rich",
    no_args_is_help=True,
    add_completion=False,
    # main() prints unexpected tracebacks itself, redacted; rich's would show raw locals.
    pretty_exceptions_enable=False,
)

# Registration block: one line per command group.
app.add_typer(config_cmd.app, name="config")
app.add_typer(storage_cmd.app, name="storage")
app.add_typer(blocks_cmd.app, name="blocks")
app.add_typer(blocks_cmd.alerts_app, name="alerts")
app.add_typer(run_cmd.app, name="run")
app.add_typer(data_cmd.app, name="data")
app.command("health")(health_cmd.health)
app.command("dashboard")(dashboard_cmd.dashboard)
app.command("verify-deployment")(deploy_cmd.verify_deployment)
app.command("smoke-test")(deploy_cmd.smoke_test)
app.command("cancel")(deploy_cmd.cancel)
app.command("pause")(deploy_cmd.pause)
app.command("resume")(deploy_cmd.resume)
app.command("fetch")(fetch_cmd.fetch)
app.command("anchors")(analysis_cmd.anchors)
app.command("screen")(analysis_cmd.screen)
app.command("backtest")(track_cmd.backtest)
app.command("watch")(watch_cmd.watch)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tradingstation {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """TradingStation: US-equities screening and trade planning on Prefect."""


def _configure_logging_from_env() -> None:
    try:
        settings = get_settings()
    except ValidationError:
        # The command that needs settings reports the bad variable; --help must still work, and
        # secrets given in the environment are masked all the same.
        level = os.environ.get("TS_LOG_LEVEL", "INFO").upper()
        configure_logging(
            level if level in LEVELS else "INFO",
            secrets=environment_secrets(),
        )
        return
    configure_logging(settings.log_level, settings.log_format, settings.secret_values())


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script: configure logging, run the app, map errors.

    Expected errors (``TradingStationError``, invalid settings) print ``error: <one line>`` on
    stderr and exit 2 (bad input or configuration) or 1 (anything else); unexpected ones print
    a redacted traceback and exit 1.
    """
    # Every command may start a temporary Prefect server; offline its telemetry only logs
    # "Failed to send telemetry" errors. Set before Prefect is imported; an explicit value wins.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    try:
        _configure_logging_from_env()
        # Not standalone: click would print usage errors as a multi-line box; they get the same
        # one ``error:`` line as every other failure (exit 2, click's code for usage errors).
        code = app(args=argv, prog_name="tradingstation", standalone_mode=False)
    except SystemExit:
        raise
    except typer.TyperException as exc:  # click's usage errors (bad option value, no command)
        if type(exc).__name__ == "NoArgsIsHelpError" and getattr(exc, "ctx", None) is not None:
            typer.echo(exc.ctx.get_help())  # a group called without a command: its help
        else:
            print_error(exc.format_message())
        sys.exit(getattr(exc, "exit_code", 2))
    except typer.Abort:
        print_error("aborted")
        sys.exit(1)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            print_error("interrupted")
            sys.exit(130)
        if isinstance(exc, ValidationError) and is_expected(exc):
            print_error(settings_error_message(exc))
            sys.exit(2)
        if is_expected(exc):
            print_error(exc)
            sys.exit(exit_code_for(exc))
        sys.stderr.write(redact("".join(traceback.format_exception(exc))))
        print_error(f"unexpected {type(exc).__name__}: {exc}")
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
