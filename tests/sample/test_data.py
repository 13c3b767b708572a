"""The sample plan's data files: found however ssp-desktop is installed, written only
through the domain services, and refused with the file and entry named when damaged."""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from ssp_desktop.domain import changes
from ssp_desktop.domain.records import ChangeLog, Partnership
from ssp_desktop.sample import data
from ssp_desktop.sample.data import SampleData, SampleDataError
from ssp_desktop.sample.plan import write_sample
from ssp_desktop.store.engine import Store

ROOT = Path(__file__).resolve().parents[2]
FILES = {f"{name}.json" for name in SampleData.__dataclass_fields__}
UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.I)


def _packaged_files() -> set[str]:
    folder = resources.files("ssp_desktop.sample").joinpath("data")
    return {item.name for item in folder.iterdir() if item.name.endswith(".json")}


def test_every_data_file_is_in_the_package_and_read_by_the_writer() -> None:
    assert _packaged_files() == FILES
    sample = data.load()
    assert sample.plans.text("current") == "2022-25"


def test_the_wheel_and_the_frozen_build_carry_the_data_files() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "data/*.json" in pyproject["tool"]["setuptools"]["package-data"]["ssp_desktop.sample"]
    spec = (ROOT / "packaging/ssp-desktop.spec").read_text(encoding="utf-8")
    assert '"ssp_desktop/sample/data"), "ssp_desktop/sample/data")' in spec


def test_the_files_name_records_by_key_not_by_id() -> None:
    folder = resources.files("ssp_desktop.sample").joinpath("data")
    for name in FILES:
        text = folder.joinpath(name).read_text(encoding="utf-8")
        assert not UUID.search(text), name
        assert text.endswith("\n") and "\r" not in text, name


def test_the_writer_goes_through_the_services(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The guard on (as it always is): any write around the services fails.
    monkeypatch.setattr(changes, "ENFORCED", True)
    with Store.open(tmp_path / "s.sqlite", create=True) as store:
        summary = write_sample(store)
        assert store.is_sample
    assert summary.actions == 42


# --------------------------------------------------------------------------- damaged data


@pytest.fixture
def copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the data folder that the writer reads instead of the package's."""
    folder = tmp_path / "data"
    shutil.copytree(Path(str(resources.files("ssp_desktop.sample").joinpath("data"))), folder)
    real_load = data.load
    monkeypatch.setattr(data, "load", lambda: real_load(folder))
    return folder


def _edit(folder: Path, name: str, change: Callable[[Any], None]) -> None:
    path = folder / name
    doc = json.loads(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False), encoding="utf-8")


def _action(doc: Any, ref: str, plan: str = "2022-25") -> dict[str, Any]:
    group = next(g for g in doc["plans"] if g["plan"] == plan)
    found: dict[str, Any] = next(a for a in group["actions"] if a["ref"] == ref)
    return found


def _refused(tmp_path: Path) -> str:
    """Write the sample into a new store; it must fail and leave the store empty."""
    with Store.open(tmp_path / "s.sqlite", create=True) as store:
        before = store.revision()
        with pytest.raises(SampleDataError) as raised:
            write_sample(store)
        assert store.revision() == before
        assert not store.is_sample
        with store.session() as s:
            assert s.scalar(select(func.count()).select_from(Partnership)) == 0
            assert s.scalar(select(func.count()).select_from(ChangeLog)) == 0
    message = str(raised.value)
    assert message.startswith("The sample plan's data files do not fit the writer: ")
    assert message.endswith("The sample plan was not written.")
    return message


def test_a_misspelt_field_is_refused_not_lost(copy: Path, tmp_path: Path) -> None:
    _edit(copy, "risks.json", lambda doc: doc["risks"][0].update(colour="red"))
    assert "risks.json > risks[R01]: 'colour' is not a field the sample writer reads" in (
        _refused(tmp_path)
    )


def test_a_missing_field_is_named(copy: Path, tmp_path: Path) -> None:
    _edit(copy, "actions.json", lambda doc: _action(doc, "PVP-04").pop("due"))
    assert "actions.json > plans[2022-25] > actions[PVP-04]: 'due' is missing" in _refused(tmp_path)


def test_a_key_naming_nothing_is_refused(copy: Path, tmp_path: Path) -> None:
    _edit(copy, "actions.json", lambda doc: _action(doc, "PVP-01").update(lead="nobody"))
    assert (
        "actions[PVP-01]: 'lead' names the person 'nobody', which the data files do not have"
    ) in _refused(tmp_path)


def test_a_key_given_twice_is_refused(copy: Path, tmp_path: Path) -> None:
    def twice(doc: Any) -> None:
        doc["people"][1]["key"] = doc["people"][0]["key"]

    _edit(copy, "partnership.json", twice)
    assert "'key' 'dcs' is also given to another entry" in _refused(tmp_path)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-3-31", "'due' should be a date written YYYY-MM-DD, not \"2025-3-31\""),
        (20250331, "'due' should be a date written YYYY-MM-DD, not 20250331"),
    ],
)
def test_an_unreadable_date_is_refused(
    copy: Path, tmp_path: Path, value: object, expected: str
) -> None:
    _edit(copy, "actions.json", lambda doc: _action(doc, "PVP-04").update(due=value))
    assert expected in _refused(tmp_path)


def test_quarters_and_years_are_written_as_the_app_shows_them(copy: Path, tmp_path: Path) -> None:
    _edit(
        copy,
        "actions.json",
        lambda doc: _action(doc, "PVP-01")["updates"][0].update(quarter="Q1 2022-23"),
    )
    assert "'quarter' should be a quarter written like \"2024/25 Q2\"" in _refused(tmp_path)


def test_an_unknown_status_lists_the_known_ones(copy: Path, tmp_path: Path) -> None:
    _edit(copy, "actions.json", lambda doc: _action(doc, "PVP-01").update(status="done"))
    assert (
        "'status' should be one of not_started, in_progress, complete, deferred, cancelled"
    ) in _refused(tmp_path)


def test_a_value_breaking_a_rule_of_the_plan_is_refused_as_a_form_would_be(
    copy: Path, tmp_path: Path
) -> None:
    def over_100(doc: Any) -> None:
        measure = next(m for m in doc["measures"] if m["unit"] == "percent")
        measure["values"][0]["value"] = 120.0

    _edit(copy, "measures.json", over_100)
    # The service's own message (the one a form shows), with where the value is.
    assert (
        "measures.json > measures[PVP-M2] > values[2022/23 Q1]: A percentage cannot be over 100"
    ) in _refused(tmp_path)


def test_board_data_must_agree_with_the_sample_constants(copy: Path, tmp_path: Path) -> None:
    _edit(copy, "board.json", lambda doc: doc["meeting"].update(date="2024-12-05"))
    assert "the meeting is on 2024-12-05 and the pack reports on 2024/25 Q2" in _refused(tmp_path)


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (
            lambda text: text.replace('"venue": ', '"title": "Again", "venue": ', 1),
            "board.json: cannot be read (the key 'title' appears twice)",
        ),
        (
            lambda text: text.replace('"tolerance": 3.0', '"tolerance": NaN', 1),
            "measures.json: cannot be read (NaN is not allowed)",
        ),
    ],
)
def test_strict_json_is_required(
    copy: Path, tmp_path: Path, damage: Callable[[str], str], expected: str
) -> None:
    name = expected.split(":")[0]
    path = copy / name
    damaged = damage(path.read_text(encoding="utf-8"))
    assert damaged != path.read_text(encoding="utf-8")
    path.write_text(damaged, encoding="utf-8")
    assert expected in _refused(tmp_path)


def test_a_missing_file_says_to_reinstall(copy: Path, tmp_path: Path) -> None:
    (copy / "funding.json").unlink()
    with Store.open(tmp_path / "s.sqlite", create=True) as store:
        with pytest.raises(SampleDataError, match="funding.json is missing .* Reinstall"):
            write_sample(store)
        assert not store.is_sample


def test_a_duplicate_ref_is_refused_by_the_plan_rule_where_it_is(
    copy: Path, tmp_path: Path
) -> None:
    _edit(copy, "actions.json", lambda doc: _action(doc, "PVP-02").update(ref="PVP-01"))
    assert ("actions[PVP-01]: Another action in this plan already has the ref PVP-01") in _refused(
        tmp_path
    )
