"""Before `helpdesk db upgrade` (a fresh install's first command) there is no stored-settings
table: that is said nowhere as a warning; a table that exists but cannot be read still is."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import text

from helpdesk.db import Database
from helpdesk.settings import Settings
from helpdesk.sla.stored import ConfiguredSla


def test_no_schema_yet_is_not_a_warning(tmp_path: Path, caplog: Any) -> None:
    db = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    caplog.set_level(logging.DEBUG, logger="helpdesk.sla.stored")
    try:
        ConfiguredSla(Settings(data_dir=tmp_path), db)
        assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
        with db.engine.begin() as conn:  # the table is there but not as the code expects
            conn.execute(text("CREATE TABLE service_settings (unrelated INTEGER)"))
        ConfiguredSla(Settings(data_dir=tmp_path), db)
        assert "stored service settings not applied" in caplog.text
    finally:
        db.dispose()
