"""Plan serialisation: the versioned plan.json document, plan.csv and a markdown summary."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tradingstation.plan import DEFAULT_MIN_REWARD_RISK, PLAN_SCHEMA_VERSION, Dropped, Idea, Plan

# The order of Idea's fields is the order of plan.json's idea keys and plan.csv's columns.
IDEA_FIELDS = list(Idea.model_fields)


class PlanDocument(BaseModel):
    """plan.json: the plan with its session and lookback (keys in this order).

    Bump ``PLAN_SCHEMA_VERSION`` on any incompatible change; additive fields keep the version.

    Attributes:
        schema_version: ``PLAN_SCHEMA_VERSION``.
        generated_at: When the plan was made.
        session: The session it plans (None when not tied to one).
        demo: Made from demo data.
        open_risk: Dollars at risk across the plan.
        hours_lookback: How many hours of signals it merged (None when not a lookback).
        min_reward_risk: The lowest reward:risk that was sized.
        ideas: The ranked ideas.
        dropped: The signals left out and why.
    """

    model_config = ConfigDict(title="TradingStation trade plan")

    schema_version: Literal[PLAN_SCHEMA_VERSION]
    generated_at: datetime
    session: date | None
    demo: bool
    open_risk: float = Field(ge=0)
    hours_lookback: float | None = None
    min_reward_risk: float = Field(default=DEFAULT_MIN_REWARD_RISK, ge=0)
    ideas: list[Idea]
    dropped: list[Dropped]


# JSON Schema of plan.json (documented in the README), generated from the models.
PLAN_JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    **PlanDocument.model_json_schema(),
}


def idea_to_dict(idea: Idea) -> dict[str, Any]:
    """One idea as JSON-ready values (ISO timestamps)."""
    out: dict[str, Any] = {}
    for name in IDEA_FIELDS:
        value = getattr(idea, name)
        out[name] = value.isoformat() if isinstance(value, datetime) else value
    return out


def plan_to_document(
    plan: Plan, session: str | None = None, hours_lookback: float | None = None
) -> dict[str, Any]:
    """The plan.json document (``PlanDocument``; see ``PLAN_JSON_SCHEMA``)."""
    values = {
        "schema_version": PLAN_SCHEMA_VERSION,
        "generated_at": (plan.generated_at.isoformat() if plan.generated_at else None),
        "session": session,
        "demo": plan.demo,
        "open_risk": plan.open_risk,
        "hours_lookback": hours_lookback,
        "min_reward_risk": plan.min_reward_risk,
        "ideas": [idea_to_dict(i) for i in plan.ideas],
        "dropped": plan.dropped,
    }
    return {name: values[name] for name in PlanDocument.model_fields}


def plan_to_csv(plan: Plan) -> str:
    """plan.csv: one row per idea; lists are joined with ``;`` and ``|`` (reasons)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(IDEA_FIELDS)
    for idea in plan.ideas:
        row = idea_to_dict(idea)
        for name in ("screeners", "targets", "signal_ids"):
            row[name] = ";".join(str(v) for v in row[name])
        row["reasons"] = " | ".join(row["reasons"])
        row["conflict_reasons"] = " | ".join(row["conflict_reasons"])
        writer.writerow([_csv_safe(row[name]) for name in IDEA_FIELDS])
    return buffer.getvalue()


def _csv_safe(value: Any) -> Any:
    # A cell starting with = + - @ is a formula in spreadsheets; data text must stay text.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def format_track(expectancy_r: float | None, sample: int, note: str = "") -> str:
    """An idea's track record in a cell: ``+0.31R (n=142)`` or ``not enough history (n=12)``."""
    if expectancy_r is None:
        return f"{note or 'not enough history'} (n={sample})"
    return f"{expectancy_r:+.2f}R (n={sample})"


def format_reward_risk(value: float | None) -> str:
    """``1.50R`` (``-`` without a target)."""
    return "-" if value is None else f"{value:.2f}R"


def plan_to_markdown(plan: Plan, title: str, limit: int = 20) -> str:
    """A markdown summary (Prefect artifact, console fallback)."""
    lines = [f"# {title}", ""]
    if plan.demo:
        lines += ["> **DEMO DATA** - synthetic market, not real prices.", ""]
    if not plan.ideas:
        lines.append("No ideas: no valid signals in the lookback window.")
        return "\n".join(lines) + "\n"
    lines += [
        "| # | symbol | side | status | score | screeners | entry | stop | targets | R:R | "
        "shares | track record |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for idea in plan.ideas[:limit]:
        targets = ", ".join(f"{t:.2f}" for t in idea.targets)
        status = "CONFLICT" if idea.conflict else idea.status
        lines.append(
            f"| {idea.rank} | {idea.symbol} | {idea.direction} | {status} | "
            f"{idea.score:.1f} | {', '.join(idea.screeners)} | {idea.entry:.2f} | "
            f"{idea.stop:.2f} | {targets} | {format_reward_risk(idea.reward_risk)} | "
            f"{idea.shares} | "
            f"{format_track(idea.track_expectancy_r, idea.track_sample, idea.track_note)} |"
        )
    lines += ["", f"Open risk: ${plan.open_risk:,.2f}. Ideas: {len(plan.ideas)}."]
    conflicts = sorted({i.symbol for i in plan.ideas if i.conflict})
    if conflicts:
        lines.append(f"CONFLICT (long and short on one symbol, not sized): "
                     f"{', '.join(conflicts)}.")
    if plan.dropped:
        lines.append(f"Dropped {len(plan.dropped)} invalid signals.")
    return "\n".join(lines) + "\n"
