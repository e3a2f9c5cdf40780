"""Moving between pages leaves no stale /media/ reference behind (no 404s in the browser).

Streamlit keeps an ``st.image`` array as an in-memory media file only as long as the session's latest
run uses it: the end of each run deletes the earlier runs' files, so a browser still asking for one
gets a 404. Episodes sends its pictures inline as data URLs instead (``core.figures.montage.png_data_url``).
"""

from __future__ import annotations

import pytest
from st_browser import IMAGES, loaded_images, rerun, wait_idle

pytestmark = pytest.mark.e2e
SIDEBAR_LINK = '[data-testid="stSidebar"] [data-testid="stPageLink-NavLink"]'


def test_switching_episodes_and_prototypical_networks_requests_no_missing_media(app_url, page):
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 and "/media/" in r.url else None)
    # As with the developer tools open: every image is fetched again, none comes from the memory cache.
    page.context.new_cdp_session(page).send("Network.setCacheDisabled", {"cacheDisabled": True})
    page.goto(f"{app_url}/Episodes")
    wait_idle(page)
    for patient in (True, True, False, False):
        for title in ("Prototypical Networks", "Episodes"):
            link = page.locator(SIDEBAR_LINK, has_text=title)
            if patient:
                rerun(page, link.click)
                assert loaded_images(page) > 0
            else:  # a visitor clicking on before the images have arrived
                link.click()
                page.wait_for_timeout(400)
    wait_idle(page)
    loaded_images(page)
    page.wait_for_timeout(1000)  # late requests of images that just went away
    assert not missing, missing


def test_episodes_sends_its_images_inline(app_url, page):
    page.goto(f"{app_url}/Episodes?dataset=glyphs")
    wait_idle(page)
    assert loaded_images(page) == 5 + 5 * 5
    sources = page.eval_on_selector_all(IMAGES, "images => images.map(i => i.getAttribute('src'))")
    assert all(source.startswith("data:image/png;base64,") for source in sources), sources[:3]
