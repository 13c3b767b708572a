"""Several writers on one store: versions, field conflicts, revisions in commit order,
and what another writer committed, read back for an open window (on SQLite here; the
same tests run against PostgreSQL in tests/store/test_pg_writers.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from ssp_desktop import services
from ssp_desktop.domain.errors import EditConflictError
from ssp_desktop.domain.events import Committed
from ssp_desktop.domain.records import Action, ChangeLog
from ssp_desktop.store.engine import Store
from tests.factories import MiniPlan, mini_plan


@pytest.fixture
def plan(store: Store) -> MiniPlan:
    return mini_plan(store)


@pytest.fixture
def second(store: Store) -> Iterator[Store]:
    other = store.another_writer()
    yield other
    other.close()


def title_of(store: Store, plan: MiniPlan) -> str:
    with store.session() as s:
        action = s.get(Action, plan.action.id)
        assert action is not None
        return action.title


def set_title(
    store: Store, plan: MiniPlan, title: str, *, actor: str = "test", read: str | None = None
) -> None:
    with store.transaction(actor=actor) as tx:
        action = tx.get(Action, plan.action.id)
        assert action is not None
        expected = {"title": read} if read is not None else None
        services.edit(tx, action, expected=expected, title=title)


def test_every_change_raises_the_records_version(store: Store, plan: MiniPlan) -> None:
    with store.session() as s:
        action = s.get(Action, plan.action.id)
        assert action is not None
        first = action.version
    set_title(store, plan, "Fund two IDVAs")
    set_title(store, plan, "Fund two IDVAs")  # no change: no new version
    with store.session() as s:
        action = s.get(Action, plan.action.id)
        assert action is not None
        assert action.version == first + 1


def test_an_edit_of_a_field_changed_since_it_was_read_is_refused_with_both_values(
    store: Store, second: Store, plan: MiniPlan
) -> None:
    read = title_of(store, plan)
    set_title(second, plan, "Fund two IDVAs", actor="Jane Other", read=read)
    with pytest.raises(EditConflictError) as refused:
        set_title(store, plan, "Fund four IDVAs", read=read)
    message = str(refused.value)
    assert "changed by Jane Other on " in message
    assert "theirs is \u201cFund two IDVAs\u201d, yours is \u201cFund four IDVAs\u201d" in message
    assert "Nothing was saved" in message
    conflict = refused.value.conflict
    assert (conflict.field, conflict.theirs, conflict.yours) == (
        "title",
        "Fund two IDVAs",
        "Fund four IDVAs",
    )
    assert title_of(store, plan) == "Fund two IDVAs"
    # Writing mine again, having seen theirs, is an ordinary edit.
    set_title(store, plan, "Fund four IDVAs", read="Fund two IDVAs")
    assert title_of(store, plan) == "Fund four IDVAs"


def test_an_edit_of_another_field_of_the_same_record_goes_through(
    store: Store, second: Store, plan: MiniPlan
) -> None:
    read = title_of(store, plan)
    with second.transaction(actor="Jane Other") as tx:
        action = tx.get(Action, plan.action.id)
        assert action is not None
        services.edit(tx, action, description="Independent advisers")
    set_title(store, plan, "Fund four IDVAs", read=read)
    assert title_of(store, plan) == "Fund four IDVAs"


def test_the_same_value_written_by_both_is_no_conflict(
    store: Store, second: Store, plan: MiniPlan
) -> None:
    read = title_of(store, plan)
    set_title(second, plan, "Fund two IDVAs", read=read)
    set_title(store, plan, "Fund two IDVAs", read=read)
    assert title_of(store, plan) == "Fund two IDVAs"


def test_revision_is_the_newest_change_on_one_writer_and_is_announced(
    store: Store, plan: MiniPlan
) -> None:
    heard: list[Committed] = []
    store.subscribe(heard.append)
    set_title(store, plan, "Fund two IDVAs")
    with store.session() as s:
        newest = s.scalar(select(func.max(ChangeLog.seq)))
        stamped = set(s.scalars(select(ChangeLog.revision).where(ChangeLog.revision.is_(None))))
    assert heard[-1].revision == store.revision() == newest
    assert stamped == set()  # every committed row carries its commit's revision


def test_revisions_follow_commit_order_not_start_order(
    store: Store, second: Store, plan: MiniPlan
) -> None:
    """The first transaction writes its rows, then waits; the second starts later but
    commits first. SQLite's writer lock holds the second back until the first commits,
    so on SQLite the order is simply start order; what matters is that each revision
    names a commit and increases with commit order."""
    committed: list[tuple[str, int]] = []
    store.subscribe(lambda c: committed.append(("first", c.revision)))
    second.subscribe(lambda c: committed.append(("second", c.revision)))
    go = threading.Event()

    def later() -> None:
        go.wait(5)
        set_title(second, plan, "Second writer", actor="Jane Other")

    worker = threading.Thread(target=later)
    worker.start()
    with store.transaction(actor="test") as tx:
        action = tx.get(Action, plan.action.id)
        assert action is not None
        services.edit(tx, action, description="First writer")
        tx.flush()
        go.set()
    worker.join(10)
    revisions = [r for _who, r in committed]
    assert revisions == sorted(revisions) and len(set(revisions)) == 2
    assert store.revision() == revisions[-1]


def test_changes_since_names_only_other_writers_commits(
    store: Store, second: Store, plan: MiniPlan
) -> None:
    start = store.revision()
    set_title(store, plan, "Mine")
    assert store.changes_since(start) is not None
    assert store.changes_since(start).records == ()  # type: ignore[union-attr]
    set_title(second, plan, "Theirs", actor="Jane Other")
    theirs = store.changes_since(start)
    assert theirs is not None
    assert theirs.revision == second.revision() == store.revision()
    assert theirs.actor == "Jane Other"
    assert [(r.entity, r.record_id, set(r.fields)) for r in theirs.records] == [
        ("action", plan.action.id, {"title"})
    ]
    assert store.changes_since(theirs.revision) is None
