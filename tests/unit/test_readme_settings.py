"""The README's configuration table is what operators read: it must name every setting there is,
and no setting that is not."""
import re
from pathlib import Path

from shared.settings import Settings


def test_readme_lists_exactly_the_settings():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `CLAIMFLOW_([A-Z_]+)` \|", readme, flags=re.M))
    assert listed == {name.upper() for name in Settings.model_fields}
