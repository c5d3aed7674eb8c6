"""One Prefect flow per data operation: each deployment's parameter schema names exactly that
operation's parameters, and a server enforcing it refuses a restore without its date."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from prefect.client.orchestration import get_client
from prefect.utilities.callables import parameter_schema_from_entrypoint

from tradingstation.config import get_settings

ROOT = Path(__file__).resolve().parents[2]
# Flow name -> (its parameters, the required ones): what `tradingstation data <op>` passes.
EXPECTED = {
    "data-rebuild-all": ({"as_of"}, []),
    "data-rebuild-daily": ({"symbols", "as_of"}, ["symbols"]),
    "data-verify": ({"check_gaps", "as_of"}, []),
    "data-detect-gaps": ({"symbol", "as_of"}, []),
    "data-fill-gaps": ({"symbol", "as_of"}, []),
    "data-cleanup": ({"as_of"}, []),
    "data-backup": ({"allow_problems", "as_of"}, []),
    "data-restore": ({"date", "as_of"}, ["date"]),
    "data-rebuild-ledger": ({"dataset", "as_of"}, []),
    "data-splits": ({"symbol", "date", "factor", "dismiss", "as_of"}, ["symbol"]),
}


def _data_deployments() -> dict[str, dict]:
    from deploy.deployments import flow_name

    document = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    found = {}
    for entry in document["deployments"]:
        name = flow_name(entry["entrypoint"], ROOT)
        if name.startswith("data-"):
            found[name] = entry
    return found


def test_each_data_deployment_shows_and_enforces_exactly_its_own_parameters() -> None:
    deployments = _data_deployments()
    assert set(deployments) == set(EXPECTED)
    for name, entry in deployments.items():
        schema = parameter_schema_from_entrypoint(entry["entrypoint"])
        assert (set(schema.properties), schema.required) == EXPECTED[name], name
        assert entry["enforce_parameter_schema"] is True, name


def test_a_server_enforcing_the_restore_schema_refuses_a_run_without_date() -> None:
    entrypoint = _data_deployments()["data-restore"]["entrypoint"]
    schema = parameter_schema_from_entrypoint(entrypoint).model_dump_for_openapi()
    with get_client(sync_client=True) as client:
        flow_id = client.create_flow_from_name("data-restore")
        deployment = client.create_deployment(
            flow_id=flow_id, name="schema-test", entrypoint=entrypoint,
            parameter_openapi_schema=schema, enforce_parameter_schema=True)
        with pytest.raises(Exception, match="'date' is a required property"):
            client.create_flow_run_from_deployment(deployment, parameters={})
        run = client.create_flow_run_from_deployment(deployment,
                                                     parameters={"date": "2025-11-24"})
        assert run.parameters == {"date": "2025-11-24"}
        client.delete_flow_run(run.id)
        client.delete_deployment(deployment)


def test_data_flows_reject_bad_parameters_without_writing(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.data_ops import rebuild_daily, restore

    monkeypatch.setenv("TS_DATA_DIR", str(tmp_path / "d"))
    get_settings.cache_clear()
    state = restore(date=" ", return_state=True)
    assert state.is_failed() and "restore needs --date" in state.message
    state = rebuild_daily(symbols="BAD!", return_state=True)
    assert state.is_failed() and "invalid ticker" in state.message
    assert not (tmp_path / "d").exists()
