"""Chinese in a real browser: the sidebar switch, the URL, links that keep the language, CJK glyphs drawn."""

from __future__ import annotations

import re

import pytest
from st_browser import loaded_images, rerun, save_screenshot, wait_idle

pytestmark = pytest.mark.e2e
SIDEBAR = '[data-testid="stSidebar"]'
SIDEBAR_LINK = f'{SIDEBAR} [data-testid="stPageLink-NavLink"]'
MAIN = '[data-testid="stMain"]'
CHINESE = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")
# The pixels of one character drawn on a canvas. Without a CJK font every Chinese character is the
# same empty box ("tofu"), so two different characters come out identical.
GLYPH_PIXELS = """(character) => { const canvas = document.createElement('canvas'); canvas.width = canvas.height = 40;
  const context = canvas.getContext('2d'); context.font = '32px sans-serif'; context.fillText(character, 2, 34);
  return Array.from(context.getImageData(0, 0, 40, 40).data).join(','); }"""


def no_exception(page) -> bool:
    return not page.locator('[data-testid="stException"]').count()


def test_the_sidebar_switch_turns_home_chinese_and_links_keep_it(app_url, page):
    page.goto(app_url)
    wait_idle(page)
    assert "Meta-Learning Playground" in page.inner_text(MAIN)
    rerun(page, lambda: page.locator(f"{SIDEBAR} button", has_text="中文").click())
    page.wait_for_url(re.compile(r"[?&]lang=zh"))
    loaded_images(page)
    main = page.inner_text(MAIN)
    assert "元学习游乐场" in main and "支持集" in main and no_exception(page)
    assert len(CHINESE.findall(main)) > len(ENGLISH_WORD.findall(main))
    assert page.title().startswith("首页 · 元学习游乐场")
    links = page.locator(SIDEBAR_LINK)
    assert all("lang=zh" in (links.nth(i).get_attribute("href") or "") for i in range(links.count()))
    save_screenshot(page, "zh_home.png")

    rerun(page, lambda: page.locator(SIDEBAR_LINK, has_text="任务采样").click())
    page.wait_for_url("**/Episodes?lang=zh")
    assert page.locator("h1", has_text="任务采样").count() == 1 and no_exception(page)
    assert loaded_images(page) == 5 + 5 * 5
    save_screenshot(page, "zh_episodes.png")

    rerun(page, lambda: page.locator(f"{SIDEBAR} button", has_text="English").click())
    page.wait_for_url(re.compile(r"[?&]lang=en"))
    assert page.locator("h1", has_text="Episodes").count() == 1


def test_a_chinese_browser_opens_in_chinese_on_its_first_visit(app_url, page):
    page.add_init_script("Object.defineProperty(navigator, 'language', {get: () => 'zh-CN'})")
    page.goto(f"{app_url}/Glossary")
    wait_idle(page)
    page.wait_for_url(re.compile(r"[?&]lang=zh"))
    assert page.locator("h1", has_text="术语表").count() == 1 and no_exception(page)
    assert "支持集" in page.inner_text(MAIN) and "support set" in page.inner_text(MAIN)
    save_screenshot(page, "zh_glossary.png")


def test_the_browser_has_a_font_for_chinese(app_url, page):
    page.goto(f"{app_url}/?lang=zh")
    wait_idle(page)
    one, meta = page.evaluate(GLYPH_PIXELS, "一"), page.evaluate(GLYPH_PIXELS, "元")
    assert one != meta, "two Chinese characters are drawn alike: no CJK font (apt-get install fonts-noto-cjk)"


# Every page in Chinese, in one session as a visitor clicks through the sidebar; the screenshots that
# README.zh-CN.md shows are taken on the way.
SCREENSHOTS = {"Prototypical_Networks": "zh_protonet.png", "MAML": "zh_maml.png",
               "MAML_regression": "zh_maml_regression.png", "Compare": "zh_compare.png"}  # fmt: skip


def test_every_page_opens_in_chinese_from_the_sidebar_without_an_exception(app_url, page):
    page.goto(f"{app_url}/?lang=zh")
    wait_idle(page)
    links = page.locator(SIDEBAR_LINK)
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert len(hrefs) >= 14 and all("lang=zh" in href for href in hrefs)
    for index, href in enumerate(hrefs[1:], start=1):
        rerun(page, lambda index=index: page.locator(SIDEBAR_LINK).nth(index).click())
        path = href.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
        assert re.search(r"[?&]lang=zh", page.url), page.url
        assert no_exception(page), f"/{path}: {page.inner_text('[data-testid=stException]')}"
        assert CHINESE.search(page.inner_text(SIDEBAR)), f"/{path}: the sidebar lost Chinese"
        main = page.inner_text(MAIN)
        assert len(CHINESE.findall(main)) > len(ENGLISH_WORD.findall(main)), f"/{path}: {main[:300]}"
        if path in SCREENSHOTS:
            loaded_images(page)
            save_screenshot(page, SCREENSHOTS[path])
