"""Run summaries: markdown text for terminals and Prefect artifacts with stable keys."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from tradingstation.signals import Signal

DEMO_BANNER = "DEMO DATA - synthetic market from the built-in demo provider, not real prices."


def _ny(instant: datetime) -> str:
    from tradingstation.calendar import NY

    return instant.astimezone(NY).strftime("%Y-%m-%d %H:%M %Z")


def signal_rows(signals: Sequence[Signal], limit: int) -> list[dict[str, object]]:
    """The best ``limit`` signals (score, then symbol) as table rows."""
    ranked = sorted(signals, key=lambda s: (-s.score, s.symbol))[:limit]
    return [
        {
            "symbol": s.symbol,
            "side": s.direction,
            "status": s.status,
            "score": round(s.score, 1),
            "entry": round(s.entry, 2),
            "stop": round(s.stop, 2),
            "targets": ", ".join(f"{t:.2f}" for t in s.targets),
            "why": s.reasons[0] if s.reasons else "",
        }
        for s in ranked
    ]


def _table(rows: list[dict[str, object]]) -> list[str]:
    if not rows:
        return ["_none found_"]
    head = ["symbol", "side", "status", "score", "entry", "stop", "targets", "why"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [str(row[h]).replace("|", "/") for h in head]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def session_summary_markdown(
    title: str,
    session: date | None,
    as_of: datetime,
    demo: bool,
    sections: Mapping[str, Sequence[Signal]],
    notes: Iterable[str] = (),
    limit: int = 10,
) -> str:
    """A session run summary: header, DEMO banner, one table of top signals per section.

    Args:
        title: Heading (``Premarket plan``).
        session: The trading session, or None on a closed day.
        as_of: The run's as-of instant.
        demo: Whether the data came from the demo market.
        sections: ``{heading: signals}``; each shows its best ``limit`` by score.
        notes: Extra bullet lines (fetch outcomes, failed symbols, market closed ...).
        limit: Rows per section.
    """
    when = session.isoformat() if session else "no session"
    lines = [f"# {title} - {when}", "", f"as of {_ny(as_of)}", ""]
    if demo:
        lines += [f"> **{DEMO_BANNER}**", ""]
    for heading, signals in sections.items():
        lines += [f"## {heading} ({len(signals)})", ""]
        lines += _table(signal_rows(signals, limit))
        lines.append("")
    notes = list(notes)
    if notes:
        lines += ["## Run notes", ""] + [f"- {n}" for n in notes] + [""]
    return "\n".join(lines)


@task(name="publish-summary", cache_policy=NO_CACHE)
def publish_summary(key: str, markdown: str, description: str) -> str:
    """Publish ``markdown`` as the markdown artifact ``key`` (a stable key keeps its history)."""
    create_markdown_artifact(key=key, markdown=markdown, description=description)
    return key
