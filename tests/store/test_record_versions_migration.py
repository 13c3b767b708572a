"""Migration 0010 on a store holding records: every record at version 1, each
change-log row stamped with its transaction's revision (its newest seq, what the
revision was before), and the store's revision where it was."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import func, select

from ssp_desktop import services
from ssp_desktop.domain.records import Action, ChangeLog
from ssp_desktop.store.engine import Store, _alembic_config
from tests.factories import mini_plan


def test_upgrading_a_store_with_history_keeps_its_revisions(tmp_path: Path) -> None:
    path = tmp_path / "plan.sqlite"
    with Store.open(path, create=True) as store:
        plan = mini_plan(store)
        with store.transaction(actor="test") as tx:
            action = tx.get(Action, plan.action.id)
            assert action is not None
            services.edit(tx, action, title="Fund two IDVAs", description="Advisers")
        with store.session() as s:
            sets = {
                change_set: top
                for change_set, top in s.execute(
                    select(ChangeLog.change_set, func.max(ChangeLog.seq)).group_by(
                        ChangeLog.change_set
                    )
                )
            }
            newest = s.scalar(select(func.max(ChangeLog.seq)))
        cfg = _alembic_config()
        with store.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0009")
    with Store.open(path) as store:  # upgrades
        assert store.revision() == newest
        with store.session() as s:
            stamped = s.execute(select(ChangeLog.change_set, ChangeLog.revision)).all()
            versions = set(s.scalars(select(Action.version)))
        assert stamped and all(revision == sets[cs] for cs, revision in stamped)
        assert versions == {1}
        with store.transaction(actor="test") as tx:
            action = tx.get(Action, plan.action.id)
            assert action is not None
            services.edit(tx, action, title="Fund three IDVAs")
        assert store.revision() > newest
