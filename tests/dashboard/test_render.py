"""Dashboard renderers: plan.json schema, CSV, markdown, SVG charts, HTML escaping."""

from __future__ import annotations

import csv
import io
import json
from xml.etree import ElementTree

import jsonschema
import pandas as pd
import pytest

from tests.dashboard.builders import sample_bars, sample_plan
from tradingstation.dashboard.charts import render_candles_svg
from tradingstation.dashboard.export import (
    IDEA_FIELDS,
    PLAN_JSON_SCHEMA,
    plan_to_csv,
    plan_to_document,
    plan_to_markdown,
)
from tradingstation.dashboard.html import render_dashboard_html


def test_plan_document_matches_its_schema_and_survives_json() -> None:
    document = json.loads(json.dumps(plan_to_document(sample_plan(), session="2025-11-24")))
    jsonschema.validate(document, PLAN_JSON_SCHEMA)
    assert document["schema_version"] == 1
    assert [i["symbol"] for i in document["ideas"]] == ["NVDA", "XSS", "AMD"]
    assert document["ideas"][0]["screeners"] == ["breakout", "avwap_reclaim"]


def test_schema_is_generated_from_the_idea_model_with_version_1_fields_required() -> None:
    idea = PLAN_JSON_SCHEMA["$defs"]["Idea"]
    assert list(idea["properties"]) == IDEA_FIELDS
    assert idea["required"] == IDEA_FIELDS[:IDEA_FIELDS.index("reward_risk")]
    assert idea["additionalProperties"] is False
    assert PLAN_JSON_SCHEMA["required"] == ["schema_version", "generated_at", "session", "demo",
                                            "open_risk", "ideas", "dropped"]


@pytest.mark.parametrize(
    ("path", "value"),
    [(("ideas", 0, "direction"), "sideways"), (("ideas", 0, "shares"), -1),
     (("ideas", 0, "symbol"), "../etc"), (("schema_version",), 2)],
)
def test_schema_rejects_broken_documents(path: tuple, value: object) -> None:
    document = json.loads(json.dumps(plan_to_document(sample_plan())))
    target = document
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, PLAN_JSON_SCHEMA)


def test_csv_has_one_row_per_idea_and_neutralises_formulas() -> None:
    plan = sample_plan()
    rows = list(csv.DictReader(io.StringIO(plan_to_csv(plan))))
    assert list(rows[0]) == IDEA_FIELDS
    assert [r["symbol"] for r in rows] == [i.symbol for i in plan.ideas]
    assert rows[0]["screeners"] == "breakout;avwap_reclaim"
    assert int(rows[0]["shares"]) == plan.ideas[0].shares


def test_markdown_lists_ideas_and_flags_demo() -> None:
    text = plan_to_markdown(sample_plan(), "Premarket plan")
    assert "DEMO DATA" in text and "| 1 | NVDA | long | triggered |" in text
    assert "DEMO" not in plan_to_markdown(sample_plan(demo=False), "Plan")


def test_svg_chart_is_valid_xml_with_candles_lines_and_levels() -> None:
    bars = sample_bars()
    svg = render_candles_svg(
        bars, "NVDA <daily>", overlays={"EMA21": bars["close"].ewm(span=21).mean()},
        levels={"entry": 101.0, "stop": 99.0, "target 1R": 103.0},
    )
    root = ElementTree.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert len(root.findall(f"{ns}polyline")) == 1
    texts = [t.text for t in root.iter(f"{ns}text")]
    assert "NVDA <daily>" in texts  # escaped in the source, restored by the XML parser
    assert any(t and t.startswith("stop 99.00") for t in texts)
    assert len(root.findall(f"{ns}rect")) >= 1 + 2 * len(bars)


def test_svg_chart_without_bars_says_so() -> None:
    empty = pd.DataFrame(columns=["timestamp", "open", "high", "low", "close", "volume"])
    assert "no data" in render_candles_svg(empty, "X")


def test_html_escapes_data_and_marks_demo() -> None:
    plan = sample_plan()
    page = render_dashboard_html(
        plan, "Plan <2025>", charts={"NVDA-long": render_candles_svg(sample_bars(), "NVDA")},
        status_rows=[("daily bars", "ok", "fresh <as of> 2025-11-21")],
    )
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "fresh &lt;as of&gt;" in page and "Plan &lt;2025&gt;" in page
    assert "id='demo-banner'" in page
    assert page.count("<tr class='idea'>") == len(plan.ideas)
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in page
    assert "demo-banner" not in render_dashboard_html(sample_plan(demo=False), "P", charts={})
