"""The ``tradingstation config`` commands: inspect the effective settings."""

from __future__ import annotations

import typer
from rich.table import Table
from rich.text import Text

from cli.common import JsonOption, console, load_settings, print_json
from tradingstation.config import Settings
from tradingstation.redaction import redact

app = typer.Typer(help="Inspect configuration (TS_* environment variables and .env).",
                  no_args_is_help=True)


@app.command("show")
def show(json_out: JsonOption = False) -> None:
    """Show the effective settings, secrets redacted.

    Values come from TS_* variables, then .env in the working directory, then defaults.
    """
    settings = load_settings()
    values = settings.redacted()
    if json_out:
        print_json(values)
        return
    table = Table(title="TradingStation settings", show_lines=False)
    table.add_column("variable", style="cyan", no_wrap=True)
    table.add_column("value", overflow="fold")
    table.add_column("description", style="dim", overflow="fold")
    fields = Settings.model_fields
    for name, value in values.items():
        variable = f"TS_{name.upper()}" if name in fields else f"({name})"
        description = fields[name].description if name in fields else "derived"
        shown = "" if value is None else redact(value)
        # Text() so that values are never parsed as rich markup.
        table.add_row(Text(variable), Text(shown), Text(description or ""))
    console.print(table)
