"""One governed write path: records change only inside the domain services.

Two proofs, each honest about what it covers. At run time the store refuses any
record write made outside a ``@service`` function (so the whole suite, which drives
every writer - forms, spreadsheets, bundles, conflict decisions, the sample - shows
they all go through the services). Statically, no module outside ``services/``,
``domain/`` and ``store/`` calls the transaction's low-level write primitives or adds a
plan record to a session itself.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ssp_desktop import services
from ssp_desktop.domain import changes
from ssp_desktop.domain.errors import UngovernedWriteError
from ssp_desktop.domain.records import Action, Organisation, record_classes
from ssp_desktop.store.engine import Store
from tests.factories import MiniPlan, mini_plan

PACKAGE = Path(__file__).resolve().parents[2] / "ssp_desktop"
# The only packages that may touch the primitives: the services themselves, and the
# domain/store layers that implement them.
GOVERNED = ("services", "domain", "store")
PRIMITIVES = {"add", "add_all", "update", "delete", "restore"}


@pytest.fixture
def plan(store: Store) -> MiniPlan:
    return mini_plan(store)


@pytest.fixture
def enforced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(changes, "ENFORCED", True)


@pytest.mark.usefixtures("enforced")
def test_changing_a_field_outside_the_services_is_refused_where_it_happens(
    store: Store, plan: MiniPlan
) -> None:
    revision = store.revision()
    with pytest.raises(UngovernedWriteError, match="Action was changed outside the domain"):
        with store.transaction() as tx:
            action = tx.get(Action, plan.action.id)
            assert action is not None
            action.title = "Written around the rules"
    assert store.revision() == revision


@pytest.mark.usefixtures("enforced")
def test_adding_a_record_outside_the_services_is_refused(store: Store, plan: MiniPlan) -> None:
    with pytest.raises(UngovernedWriteError, match="Organisation was added outside"):
        with store.transaction() as tx:
            tx.add(Organisation(partnership_id=plan.partnership.id, name="Fire"))
    with pytest.raises(UngovernedWriteError):
        with store.transaction() as tx:
            tx.session.add(Organisation(partnership_id=plan.partnership.id, name="Fire"))


@pytest.mark.usefixtures("enforced")
def test_the_same_write_through_a_service_is_accepted_and_checked(
    store: Store, plan: MiniPlan
) -> None:
    with store.transaction() as tx:
        services.create(tx, Organisation(partnership_id=plan.partnership.id, name="Fire"))
    with pytest.raises(Exception, match="Another organisation in this partnership already"):
        with store.transaction() as tx:
            services.create(tx, Organisation(partnership_id=plan.partnership.id, name="fire"))


def _violations(path: Path, root: Path = PACKAGE.parent) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    records = set(record_classes()) | {c.__name__ for c in record_classes().values()}
    found: list[str] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        receiver, method = node.func.value, node.func.attr
        name = (
            receiver.id
            if isinstance(receiver, ast.Name)
            else receiver.attr
            if isinstance(receiver, ast.Attribute)
            else ""
        )
        where = f"{path.relative_to(root)}:{node.lineno}"
        if name in ("tx", "transaction") and method in PRIMITIVES:
            found.append(f"{where}: {name}.{method}(...)")
        elif "session" in name and method in ("add", "add_all", "merge") and node.args:
            arg = node.args[0]
            made = arg.func if isinstance(arg, ast.Call) else None
            if isinstance(made, ast.Name) and made.id in records:
                found.append(f"{where}: {name}.{method}({made.id}(...))")
    return found


def test_no_module_outside_the_services_uses_the_write_primitives() -> None:
    found: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        top = path.relative_to(PACKAGE).parts[0]
        if top in GOVERNED:
            continue
        found.extend(_violations(path))
    assert found == [], "writes outside ssp_desktop/services:\n" + "\n".join(found)


def test_the_walk_would_see_a_violation(tmp_path: Path) -> None:
    """The static check is not vacuous: it finds each kind of write it looks for."""
    sample = tmp_path / "probe.py"
    sample.write_text(
        "def f(tx, session):\n    tx.update(x, title='a')\n    session.add(Action(title='b'))\n",
        encoding="utf-8",
    )
    assert len(_violations(sample, tmp_path)) == 2
