"""The hostile-file matrix in the browser: every file dropped on Your images is named in a message
that says what happened, blank ones are called blank, good ones are added, and no traceback shows.

The files are made by ``benchmarks.hostile_files`` (never stored); its ``main`` times the same run.
"""

from __future__ import annotations

import pytest

from benchmarks.hostile_files import hostile_files

pytestmark = pytest.mark.e2e


def test_each_hostile_file_gets_the_message_it_deserves_and_nothing_is_lost(app_url, page, tmp_path):
    from benchmarks.hostile_files import CLASS_NAME, drop_each

    files = hostile_files()
    outcomes = drop_each(page, app_url, files, tmp_path)
    wrong = [(o.file.name, o.file.expect, o.said, o.message) for o in outcomes if o.said != o.file.expect]
    assert not wrong, wrong
    assert not any(o.traceback for o in outcomes)
    kept = sum(f.expect != "rejected" for f in files)
    heading = page.locator('[data-testid="stExpander"] summary', has_text=f"({CLASS_NAME})").inner_text()
    assert f"{kept} images" in heading, heading
