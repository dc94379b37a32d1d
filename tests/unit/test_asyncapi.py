"""The AsyncAPI document other teams read must describe the queues and message that exist."""
from pathlib import Path

import yaml

from routing_worker.department_message import SCHEMA, VERSION
from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_the_asyncapi_document_names_the_real_queue_exchange_and_schema():
    doc = yaml.safe_load((ROOT / "docs" / "asyncapi.yaml").read_text(encoding="utf-8"))
    default = {name: field.default for name, field in Settings.model_fields.items()}
    channel = doc["channels"]["departmentQueue"]
    assert channel["address"] == default["department_queue_prefix"] + "{department}"
    assert f"exchange `{default['department_exchange']}`" in channel["description"]
    message = doc["components"]["messages"]["departmentClaim"]
    assert message["name"] == SCHEMA and message["headers"]["properties"]["version"]["const"] == VERSION
    schema_path = (ROOT / "docs" / message["payload"]["schema"]["$ref"]).resolve()
    assert schema_path.is_file() and schema_path == ROOT / "shared" / "messaging" / "schemas" / "department-claim.v1.json"
