"""Searching the whole plan: what it finds, the words it shows, and an index that every
write keeps current (and a migration builds for a store made before it)."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ssp_desktop import services
from ssp_desktop.domain.periods import FinancialYear, Quarter
from ssp_desktop.domain.records import Action, ActionUpdate, Measure, PriorityArea
from ssp_desktop.queries.search import search_plan
from ssp_desktop.services.history import UndoHistory
from ssp_desktop.store import search as index
from ssp_desktop.store.engine import Store, _alembic_config
from tests.factories import mini_plan

Q2 = Quarter(2022, 2)


def _found(store: Store, typed: str) -> dict[str, list[str]]:
    with store.session() as s:
        return {g.label: [h.title for h in g.hits] for g in search_plan(s, typed)}


def test_words_in_an_update_narrative_are_found_with_the_quarter(store: Store) -> None:
    plan = mini_plan(store)
    with store.transaction(actor="lead") as tx:
        action = tx.get(Action, plan.action.id)
        assert action is not None
        services.write_update(
            tx,
            action,
            Q2,
            rag=None,
            narrative="Cases heard at MARAC within ten working days.",
            written_on=dt.date(2022, 10, 3),
        )
    with store.session() as s:
        groups = search_plan(s, "marac")
    assert [g.label for g in groups] == ["Progress updates"]
    hit = groups[0].hits[0]
    assert (hit.entity, hit.record_id, hit.quarter) == ("action", plan.action.id, Q2)
    assert "<b>MARAC</b>" in hit.context_html and hit.matched == {"marac"}
    assert hit.title == "PVP-01 Fund IDVAs" and hit.plan_title == "Plan 2022-25"
    # The update is found by its own words, not by its action's title.
    assert _found(store, "idvas") == {"Actions": ["PVP-01 Fund IDVAs"]}


def test_results_are_grouped_by_kind_and_the_last_word_is_a_prefix(store: Store) -> None:
    mini_plan(store)
    # "Vulnerable people" is a priority; "Police" an organisation; "Fund IDVAs" an action.
    assert _found(store, "vulner") == {"Plans, priorities and areas": ["PVP Vulnerable people"]}
    assert _found(store, "polic") == {"Organisations and people": ["Police"]}
    assert _found(store, "fund idv") == {"Actions": ["PVP-01 Fund IDVAs"]}
    assert _found(store, "idvas fund") == {"Actions": ["PVP-01 Fund IDVAs"]}  # any order
    # A next word just begun (one letter) waits for its second letter.
    assert _found(store, "vulnerable z") == _found(store, "vulnerable")
    assert _found(store, "vulnerable zz") == {}


@pytest.mark.parametrize("typed", ['"', "AND OR NOT", "(", "NEAR(", "*", "title:x", "  "])
def test_search_syntax_typed_by_a_person_is_just_words(store: Store, typed: str) -> None:
    mini_plan(store)
    with store.session() as s:
        search_plan(s, typed)  # no FTS5 syntax error reaches the user


def test_every_write_keeps_the_index_current_undo_and_delete_included(store: Store) -> None:
    plan = mini_plan(store)
    history = UndoHistory(store)
    try:

        def retitle(tx: object) -> None:
            action = tx.get(Action, plan.action.id)  # type: ignore[attr-defined]
            services.edit(tx, action, title="Commission a knife crime programme")  # type: ignore[arg-type]

        history.perform("Change title", retitle)
        assert _found(store, "knife") == {"Actions": ["PVP-01 Commission a knife crime programme"]}
        assert _found(store, "IDVAs") == {}
        history.undo()
        assert _found(store, "knife") == {}
        assert _found(store, "IDVAs") == {"Actions": ["PVP-01 Fund IDVAs"]}
    finally:
        history.close()
    with store.transaction(actor="test") as tx:
        measure = tx.get(Measure, plan.measure.id)
        assert measure is not None
        services.delete(tx, measure)
    assert _found(store, "feel safe") == {}


def test_a_store_made_before_search_is_indexed_by_its_upgrade(tmp_path: Path) -> None:
    from alembic import command

    path = tmp_path / "plan.sqlite"
    with Store.open(path, create=True) as store:
        mini_plan(store)
        cfg = _alembic_config()
        with store.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0004")
            tables = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master")}
        assert index.TABLE not in tables
    with Store.open(path) as store:  # upgrades, rebuilding the index
        assert _found(store, "idvas") == {"Actions": ["PVP-01 Fund IDVAs"]}


def test_documents_numbered_by_record_id_are_renumbered_by_the_upgrade(tmp_path: Path) -> None:
    """Migration 0013: a store whose documents' rowids were made from their records'
    ids keeps every document, renumbered in order with the id table beside them; a
    downgrade numbers them from the ids again, as the earlier version finds them."""
    from alembic import command

    path = tmp_path / "plan.sqlite"
    with Store.open(path, create=True) as store:
        plan = mini_plan(store)
        update = _write_marac_update(store, plan.action.id)
        kept = _index_rows(store)
        cfg = _alembic_config()
        with store.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0012")
            tables = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master")}
            earlier = conn.exec_driver_sql(
                f"SELECT rowid, record_id, label FROM {index.TABLE}"
            ).all()
    assert index.IDS_TABLE not in tables
    assert len(earlier) == len(kept)
    assert all(rowid == uuid.UUID(hex=rid).int & ((1 << 63) - 1) for rowid, rid, _l in earlier)
    # The earlier version showed the label it stored: the update's, its action's name.
    assert {rid: label for _r, rid, label in earlier}[update.id.hex] == "PVP-01 Fund IDVAs"
    with Store.open(path) as store:  # upgrades: renumbered, nothing rebuilt
        assert _index_rows(store) == kept
        with store.session() as s:
            rowids = s.execute(text(f"SELECT rowid FROM {index.TABLE} ORDER BY rowid")).scalars()
            assert list(rowids) == list(range(1, len(kept) + 1))
        assert _found(store, "idvas") == {"Actions": ["PVP-01 Fund IDVAs"]}
        assert _found(store, "marac") == {"Progress updates": ["PVP-01 Fund IDVAs"]}
        with store.transaction(actor="test") as tx:
            action = tx.get(Action, plan.action.id)
            assert action is not None
            services.edit(tx, action, title="Fund more IDVAs")
        assert _found(store, "idvas") == {"Actions": ["PVP-01 Fund more IDVAs"]}
        assert _found(store, "marac") == {"Progress updates": ["PVP-01 Fund more IDVAs"]}
        assert len(_index_rows(store)) == len(kept)


def _write_marac_update(store: Store, action_id: uuid.UUID) -> ActionUpdate:
    """The action's Q2 update, in words that only it holds ("MARAC")."""
    with store.transaction(actor="lead") as tx:
        action = tx.get(Action, action_id)
        assert action is not None
        return services.write_update(
            tx, action, Q2, rag=None, narrative="Cases heard at MARAC.",
            written_on=dt.date(2022, 10, 3),
        )  # fmt: skip


def test_new_documents_are_appended_in_the_order_they_are_written(store: Store) -> None:
    """An import's documents go after every stored one, in the order it made them (so
    SQLite appends them rather than rewriting pages all over the index)."""
    plan = mini_plan(store)
    with store.session() as s:
        if not index.has_index(s):
            return  # PostgreSQL: nothing kept
        before = s.execute(text(f"SELECT max(rowid) FROM {index.TABLE}")).scalar_one()
    with store.transaction(actor="lead") as tx:
        area = tx.get(PriorityArea, plan.area.id)
        assert area is not None
        made = [
            services.add_action(tx, area, ref=f"PVP-{n:02d}", title=f"Scheme {n}")
            for n in range(2, 12)
        ]
    with store.session() as s:
        numbered = dict(
            s.execute(text(f"SELECT record_id, doc FROM {index.IDS_TABLE}")).tuples().all()
        )
    rowids = [numbered[a.id.bytes] for a in made]
    assert rowids == list(range(before + 1, before + 11))


def test_renaming_an_action_rewrites_its_own_document_only(store: Store) -> None:
    """Its updates are shown under its new name, read when searched: their documents
    stay as written (an import renaming hundreds of actions rewrote thousands)."""
    plan = mini_plan(store)
    update = _write_marac_update(store, plan.action.id)
    with store.session() as s:
        if not index.has_index(s):
            return  # PostgreSQL: nothing kept
    before = _doc_numbers(store)
    with store.transaction(actor="lead") as tx:
        action = tx.get(Action, plan.action.id)
        assert action is not None
        services.edit(tx, action, title="Commission IDVAs")
    after = _doc_numbers(store)
    assert after[update.id] == before[update.id]
    assert after[plan.action.id] > max(before.values())
    assert _found(store, "marac") == {"Progress updates": ["PVP-01 Commission IDVAs"]}
    with store.transaction(actor="lead") as tx:
        action = tx.get(Action, plan.action.id)
        assert action is not None
        services.delete(tx, action, cascade=True)
    assert update.id not in _doc_numbers(store)
    assert _found(store, "marac") == {}


def _doc_numbers(store: Store) -> dict[uuid.UUID, int]:
    with store.session() as s:
        rows = s.execute(text(f"SELECT record_id, doc FROM {index.IDS_TABLE}")).tuples()
        return {uuid.UUID(bytes=record_id): doc for record_id, doc in rows}


def test_past_the_ranking_cap_the_newest_matches_come_first(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A word in more documents than are ranked lists the latest written first."""
    plan = mini_plan(store)
    with store.transaction(actor="lead") as tx:
        area = tx.get(PriorityArea, plan.area.id)
        assert area is not None
        for n in range(2, 8):
            services.add_action(tx, area, ref=f"PVP-{n:02d}", title=f"Outreach scheme {n}")
    with store.transaction(actor="lead") as tx:
        area = tx.get(PriorityArea, plan.area.id)
        assert area is not None
        services.add_action(tx, area, ref="PVP-08", title="Outreach scheme 8")
    monkeypatch.setattr(index, "RANKED", 3)
    with store.session() as s:
        if not index.has_index(s):
            return  # PostgreSQL: the scan lists matches its own way
    titles = _found(store, "outreach")["Actions"]
    assert len(titles) == 7
    assert titles[0] == "PVP-08 Outreach scheme 8"


def test_without_fts5_the_same_words_are_found_by_a_scan(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL later: the query layer still answers (store.search scans instead)."""
    mini_plan(store)
    with_index = _found(store, "fund idv")
    monkeypatch.setattr(index, "has_index", lambda _s: False)
    assert _found(store, "fund idv") == with_index
    with store.session() as s:
        hits = [h for g in search_plan(s, "idvas") for h in g.hits]
    assert hits and "<b>IDVAs</b>" in hits[0].title_html


def test_every_plan_is_searched_and_each_hit_names_its_plan(store: Store) -> None:
    plan = mini_plan(store)
    with store.transaction(actor="test") as tx:
        other = services.start_plan(
            tx,
            partnership_name="Test CSP",
            area="Testshire",
            title="Plan 2025-28",
            start_year=FinancialYear(2025),
            end_year=FinancialYear(2027),
        )
        other_id = other.id
    with store.session() as s:
        plans = {h.plan_title for g in search_plan(s, "plan") for h in g.hits}
        assert {"Plan 2022-25", "Plan 2025-28"} <= plans
        only = {h.plan_id for g in search_plan(s, "plan", plan_id=other_id) for h in g.hits}
        assert plan.plan.id not in only
        assert s.scalar(select(Action.id)) == plan.action.id


def test_a_retitled_action_renames_its_updates_hits_and_other_changes_keep_them(
    store: Store,
) -> None:
    """The index rewrites only documents whose words changed: those that did are found by
    their new words, those that did not are still found."""
    plan = mini_plan(store)
    with store.transaction(actor="lead") as tx:
        action = tx.get(Action, plan.action.id)
        assert action is not None
        services.write_update(
            tx,
            action,
            Q2,
            rag=None,
            narrative="Cases heard at MARAC.",
            written_on=dt.date(2022, 10, 3),
        )
    with store.transaction(actor="lead") as tx:
        action = tx.get(Action, plan.action.id)
        assert action is not None
        services.edit(tx, action, title="Commission a knife crime programme")
    with store.session() as s:
        (group,) = search_plan(s, "marac")
    assert [h.title for h in group.hits] == ["PVP-01 Commission a knife crime programme"]
    with store.transaction(actor="lead") as tx:
        action = tx.get(Action, plan.action.id)
        assert action is not None
        services.edit(tx, action, due_date=dt.date(2025, 3, 31))
    assert _found(store, "marac") == {
        "Progress updates": ["PVP-01 Commission a knife crime programme"]
    }
    assert _found(store, "knife") == {"Actions": ["PVP-01 Commission a knife crime programme"]}


def _index_rows(store: Store) -> list[tuple[object, ...]]:
    """The index's documents, each checked against the record the id table says it is
    of (a rowid says only when its document was written)."""
    with store.session() as s:
        docs = s.execute(
            text(
                f"SELECT i.record_id, d.* FROM {index.IDS_TABLE} AS i "
                f"JOIN {index.TABLE} AS d ON d.rowid = i.doc"
            )
        ).all()
        listed = s.execute(text(f"SELECT count(*) FROM {index.IDS_TABLE}")).scalar_one()
        stored = s.execute(text(f"SELECT count(*) FROM {index.TABLE}")).scalar_one()
    assert listed == stored == len(docs)
    assert all(uuid.UUID(bytes=row[0]).hex == row[2] for row in docs)
    return sorted(tuple(row[1:]) for row in docs)


def test_many_writes_in_one_transaction_index_what_a_rebuild_would(store: Store) -> None:
    """A batch (an import's worth) of actions, updates and value notes, then renames,
    a supersession and a deletion: what is found follows each record, and on
    SQLite the kept index is exactly the one made afresh from the records."""
    plan = mini_plan(store)
    with store.transaction(actor="lead") as tx:
        area = tx.get(PriorityArea, plan.area.id)
        measure = tx.get(Measure, plan.measure.id)
        assert area is not None and measure is not None
        actions = [
            services.add_action(tx, area, ref=f"PVP-{n:02d}", title=f"Scheme {n}")
            for n in range(2, 42)
        ]
        for n, action in enumerate(actions, start=2):
            services.write_update(
                tx,
                action,
                Q2,
                rag=None,
                narrative=f"Casework item{n}x reviewed",
                written_on=dt.date(2022, 10, 3),
            )
        for quarter in (Q2, Quarter(2022, 3)):
            services.record_value(tx, measure, quarter, 61.0, note=f"Survey {quarter.label}")
    assert _found(store, "item17x") == {"Progress updates": ["PVP-17 Scheme 17"]}
    assert len(_found(store, "casework")["Progress updates"]) == 40
    with store.transaction(actor="lead") as tx:
        first, second = tx.get(Action, actions[0].id), tx.get(Action, actions[1].id)
        measure = tx.get(Measure, plan.measure.id)
        assert first is not None and second is not None and measure is not None
        # Superseded, then its action renamed: the old words stay unfound.
        services.write_update(
            tx, first, Q2, rag=None, narrative="Replaced wording", written_on=dt.date(2022, 10, 9)
        )
        services.edit(tx, first, title="Knife crime")
        renamed = tx.get(Action, actions[15].id)
        assert renamed is not None
        services.edit(tx, renamed, title="Youth diversion")
        services.edit(tx, measure, name="Feel safe at night")
        services.delete(tx, second, cascade=True)
    assert _found(store, "item2x") == {}
    assert _found(store, "replaced") == {"Progress updates": ["PVP-02 Knife crime"]}
    assert _found(store, "item3x") == {}
    assert _found(store, "item17x") == {"Progress updates": ["PVP-17 Youth diversion"]}
    assert _found(store, "survey") == {"Notes on measure values": ["M01 Feel safe at night"] * 2}
    _assert_kept_is_a_rebuild(store)


def _assert_kept_is_a_rebuild(store: Store) -> None:
    """On SQLite, the kept index is exactly the one made afresh from the records (and
    FTS5 finds it whole); PostgreSQL keeps none (the scan answers)."""
    with store.session() as s:
        if not index.has_index(s):
            return
    kept = _index_rows(store)
    with store.session() as s, s.begin():
        assert index.rebuild(s) == len(kept)
        s.execute(text(f"INSERT INTO {index.TABLE}({index.TABLE}) VALUES ('integrity-check')"))
    assert _index_rows(store) == kept


def test_an_import_indexed_a_batch_at_a_time_keeps_what_a_rebuild_would(store: Store) -> None:
    """A bulk transaction on a SQLite file (an import) indexes each batch its writer says
    is written (``Transaction.batch_written``), on the insert thread, while it goes on:
    records made in one batch and renamed, superseded, deleted or restored in a later
    one, and an action deleted with its updates, end as the index made afresh has them,
    and are found (or not) by their words."""
    plan = mini_plan(store)
    with store.session() as s:
        kept = index.has_index(s)

    def documents(session: Session) -> int:
        return int(session.execute(text(f"SELECT count(*) FROM {index.IDS_TABLE}")).scalar_one())

    with store.transaction(actor="import", bulk=True) as tx:
        area = tx.get(PriorityArea, plan.area.id)
        measure = tx.get(Measure, plan.measure.id)
        assert area is not None and measure is not None
        before = documents(tx.session) if kept else 0
        actions = [
            services.add_action(tx, area, ref=f"PVP-{n:02d}", title=f"Scheme {n}")
            for n in range(2, 12)
        ]
        for n, action in enumerate(actions, start=2):
            services.write_update(
                tx, action, Q2, rag=None, narrative=f"Casework item{n}x reviewed",
                written_on=dt.date(2022, 10, 3),
            )  # fmt: skip
        tx.batch_written()
        if kept:
            # Indexed as the import goes, not only at its commit: ten actions, ten updates.
            assert documents(tx.session) == before + 20
        first, second, third = actions[0], actions[1], actions[2]
        services.edit(tx, first, title="Knife crime")
        services.write_update(
            tx, second, Q2, rag=None, narrative="Replaced wording", written_on=dt.date(2022, 10, 9)
        )
        services.delete(tx, third, cascade=True)
        services.record_value(tx, measure, Q2, 61.0, note="Survey autumn")
        tx.batch_written()
        services.restore(tx, third)
        services.edit(tx, actions[3], title="Youth diversion")
        services.record_value(tx, measure, Q2, 62.0, note="")  # its note's document goes
    assert _found(store, "knife") == {"Actions": ["PVP-02 Knife crime"]}
    assert _found(store, "item3x") == {}  # superseded
    assert _found(store, "replaced") == {"Progress updates": ["PVP-03 Scheme 3"]}
    assert "PVP-04 Scheme 4" in _found(store, "scheme")["Actions"]  # restored
    assert _found(store, "item4x") == {}  # its update stays deleted
    assert _found(store, "youth") == {"Actions": ["PVP-05 Youth diversion"]}
    assert _found(store, "item5x") == {"Progress updates": ["PVP-05 Youth diversion"]}
    assert _found(store, "survey") == {}
    _assert_kept_is_a_rebuild(store)
