"""Plan serialisation: the versioned plan.json document, plan.csv and a markdown summary."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from tradingstation.plan import PLAN_SCHEMA_VERSION, Idea, Plan

# Fields every version-1 idea has; later additions are listed in IDEA_FIELDS only (additive).
REQUIRED_IDEA_FIELDS = [
    "rank", "symbol", "direction", "status", "score", "rank_score", "screeners", "entry",
    "stop", "targets", "risk_per_share", "shares", "position_value", "risk_dollars",
    "sizing_note", "invalidation", "reasons", "signal_ids", "timestamp", "data_as_of", "demo",
]
IDEA_FIELDS = [*REQUIRED_IDEA_FIELDS, "reward_risk", "conflict", "conflict_reasons",
               "track_expectancy_r", "track_sample", "track_note", "live_state", "live_at"]

# JSON Schema of plan.json (documented in the README). Bump PLAN_SCHEMA_VERSION on any
# incompatible change; additive fields keep the version.
PLAN_JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "TradingStation trade plan",
    "type": "object",
    "required": ["schema_version", "generated_at", "demo", "session", "open_risk", "ideas",
                 "dropped"],
    "properties": {
        "schema_version": {"const": PLAN_SCHEMA_VERSION},
        "generated_at": {"type": "string", "format": "date-time"},
        "session": {"type": ["string", "null"], "format": "date"},
        "demo": {"type": "boolean"},
        "open_risk": {"type": "number", "minimum": 0},
        "hours_lookback": {"type": ["number", "null"]},
        "min_reward_risk": {"type": "number", "minimum": 0},
        "ideas": {
            "type": "array",
            "items": {
                "type": "object",
                "required": REQUIRED_IDEA_FIELDS,
                "properties": {
                    "rank": {"type": "integer", "minimum": 1},
                    "symbol": {"type": "string", "pattern": r"^[A-Z][A-Z0-9.\-]{0,9}$"},
                    "direction": {"enum": ["long", "short"]},
                    "status": {"enum": ["watch", "triggered"]},
                    "score": {"type": "number", "minimum": 0, "maximum": 10},
                    "rank_score": {"type": "number"},
                    "screeners": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                    "entry": {"type": "number", "exclusiveMinimum": 0},
                    "stop": {"type": "number", "exclusiveMinimum": 0},
                    "targets": {"type": "array", "items": {"type": "number"}},
                    "risk_per_share": {"type": "number", "exclusiveMinimum": 0},
                    "shares": {"type": "integer", "minimum": 0},
                    "position_value": {"type": "number", "minimum": 0},
                    "risk_dollars": {"type": "number", "minimum": 0},
                    "sizing_note": {"type": "string"},
                    "invalidation": {"type": "string"},
                    "reasons": {"type": "array", "items": {"type": "string"}},
                    "signal_ids": {"type": "array", "items": {"type": "string"}},
                    "timestamp": {"type": "string", "format": "date-time"},
                    "data_as_of": {"type": "string", "format": "date-time"},
                    "demo": {"type": "boolean"},
                    "reward_risk": {"type": ["number", "null"]},
                    "conflict": {"type": "boolean"},
                    "conflict_reasons": {"type": "array", "items": {"type": "string"}},
                    "track_expectancy_r": {"type": ["number", "null"]},
                    "track_sample": {"type": "integer", "minimum": 0},
                    "track_note": {"type": "string"},
                    "live_state": {"enum": [None, "watch", "triggered", "invalidated",
                                            "expired"]},
                    "live_at": {"type": ["string", "null"], "format": "date-time"},
                },
                "additionalProperties": False,
            },
        },
        "dropped": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["symbol", "screener", "reason"],
                "properties": {k: {"type": "string"} for k in ("symbol", "screener", "reason")},
            },
        },
    },
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
    """The plan.json document (see ``PLAN_JSON_SCHEMA``)."""
    return {
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
