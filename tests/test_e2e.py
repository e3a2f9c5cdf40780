"""The app in a real browser: pages render, images load, a new episode can be drawn."""

from __future__ import annotations

from pathlib import Path

import pytest
from st_browser import loaded_images, rerun, run_finished, save_screenshot, stroke, train_in_page, wait_idle

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[1]
IMAGES = '[data-testid="stImage"] img'
DROPZONE = '[data-testid="stFileUploaderDropzoneInput"]'
SIDEBAR_LINK = '[data-testid="stSidebar"] [data-testid="stPageLink-NavLink"]'


def class_names(page) -> list[str]:
    return page.locator('[data-testid="stMain"] [data-testid="stHorizontalBlock"] code').all_inner_texts()


def test_home_then_episodes_then_a_new_episode(app_url, page):
    page.goto(app_url)
    wait_idle(page)
    assert "Meta-Learning Playground" in page.inner_text('[data-testid="stMain"]')
    rerun(page, lambda: page.locator(SIDEBAR_LINK, has_text="Episodes").click())
    assert not page.locator('[data-testid="stException"]').count()
    assert loaded_images(page) == 5 + 5 * 5  # five support strips and 25 query images
    first = class_names(page)
    rerun(page, lambda: page.get_by_role("button", name="New episode").click())
    assert loaded_images(page) == 30
    assert class_names(page) != first
    page.wait_for_url("**episode=1**")


def test_home_answers_an_episode_and_the_sidebar_keeps_lang_across_a_click(app_url, page):
    page.goto(f"{app_url}/?lang=en")
    wait_idle(page)
    assert page.locator(SIDEBAR_LINK, has_text="Home").count() == 1
    assert "streamlit app" not in page.inner_text("body").lower()
    sidebar = page.inner_text('[data-testid="stSidebar"]')
    for caption in ("Start", "Algorithms", "Your data", "Compare and play", "Learn"):
        assert caption in sidebar
    assert loaded_images(page) == 5 + 1  # the support set and the query
    assert page.locator('[data-testid="stPlotlyChart"]').count() == 1
    assert page.get_by_text("Right: class").count() + page.get_by_text("Wrong: it said class").count() == 1
    rerun(page, lambda: page.locator(SIDEBAR_LINK, has_text="Relation Networks").click())
    page.wait_for_url("**/Relation_Networks?lang=en")
    assert page.locator("h1", has_text="Relation Networks").count() == 1
    assert not page.locator('[data-testid="stException"]').count()
    assert "streamlit app" not in page.inner_text("body").lower()


def test_a_pasted_link_shows_the_same_episode(app_url, page):
    link = f"{app_url}/Episodes?n_way=3&n_shot=2&seed=4&episode=7"
    page.goto(link)
    wait_idle(page)
    shown = class_names(page)
    assert len(shown) == 3 and loaded_images(page) == 3 + 3 * 5
    page.goto(app_url)
    wait_idle(page)
    page.goto(link)
    wait_idle(page)
    assert class_names(page) == shown


def test_protonet_training_in_the_browser_can_be_stopped_and_keeps_the_model(app_url, page):
    train_in_page(page, app_url, "Prototypical_Networks", "training episodes", 5000, wait=False)
    page.wait_for_selector('[data-testid="stProgress"]', timeout=60_000)
    progress = "document.querySelector('[data-testid=\"stProgress\"]')?.innerText || ''"
    page.wait_for_function(f"/episode \\d+ of 5000/.test({progress})", timeout=60_000)
    first = page.evaluate(progress)
    page.wait_for_function(f"{progress} !== {first!r}", timeout=60_000)  # it moves while training runs
    page.wait_for_selector('[data-testid="stPlotlyChart"]', timeout=60_000)  # the live curves (late on a busy CPU)
    page.get_by_role("button", name="Stop (keep the best weights so far)").click()
    page.wait_for_selector("text=stopped early", timeout=60_000)
    wait_idle(page)
    assert page.get_by_role("button", name="Download checkpoint").count() == 1
    assert "Accuracy on this episode's queries" in page.inner_text('[data-testid="stMain"]')
    page.wait_for_function(  # the embedding map is drawn (plotly titles are SVG text)
        "[...document.querySelectorAll('.gtitle')].some(t => t.textContent.startsWith('Embeddings in 2-D'))"
    )


def _draw(page, canvas, points: list[tuple[float, float]], tries: int = 3) -> None:
    """A stroke that reaches the app: a canvas that is still mounting can drop the first one, so retry."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(tries):
        finished = run_finished(page)
        stroke(page, canvas, points)
        try:
            page.wait_for_function(finished, timeout=15_000)
            wait_idle(page)
            return
        except PlaywrightTimeout:
            if attempt == tries - 1:
                raise


def test_your_images_from_uploaded_files_and_from_strokes_on_canvases(app_url, page, tmp_path):
    from PIL import Image, ImageDraw
    from playwright.sync_api import expect

    shapes = {"ring": lambda d: d.ellipse((20, 20, 92, 92), outline="black", width=9),
              "cross": lambda d: (d.line((20, 20, 92, 92), fill="black", width=9),
                                  d.line((20, 92, 92, 20), fill="black", width=9))}  # fmt: skip
    files = {}
    for name, draw in shapes.items():
        for i, shift in enumerate((0, 6, -6)):
            image = Image.new("L", (112, 112), "white")
            draw(ImageDraw.Draw(image))
            path = tmp_path / f"{name}-{i}.png"
            image.rotate(shift, fillcolor="white").save(path)
            files.setdefault(name, []).append(str(path))
    page.goto(f"{app_url}/Your_images")
    wait_idle(page)
    main = page.locator('[data-testid="stMain"]')
    for index, name in enumerate(shapes):
        page.get_by_label("New class name").fill(name)
        rerun(page, lambda: page.get_by_role("button", name="Add class").click())
        dropzone = main.locator(f'[class*="st-key-your_class_{index}_upload_"] {DROPZONE}')
        rerun(page, lambda d=dropzone, n=name: d.set_input_files(files[n][:2]))
        page.wait_for_selector(f"text=Added 2 images to class “{name}”")
    queries = main.locator(f'[class*="st-key-your_queries_upload_"] {DROPZONE}')
    rerun(page, lambda: queries.set_input_files([files["ring"][2], files["cross"][2]]))
    page.wait_for_selector("text=Predictions of")
    wait_idle(page)
    assert page.locator('[data-testid="stDataFrame"]').count() == 1, page.inner_text('[data-testid="stMain"]')
    assert not page.locator('[data-testid="stException"]').count()
    save_screenshot(page, "your_images.png")

    rerun(page, lambda: page.get_by_role("radio", name="Draw live").click())
    canvases = page.locator("canvas.upper-canvas")
    expect(canvases).to_have_count(3, timeout=60_000)  # two classes and the query; in the component's shadow DOM
    names = main.get_by_label("name of class 1")
    names.fill("ring")
    rerun(page, lambda: names.press("Enter"))
    _draw(page, canvases.nth(0), [(0.2, 0.5), (0.5, 0.2), (0.8, 0.5), (0.5, 0.8), (0.2, 0.5)])
    _draw(page, canvases.nth(1), [(0.2, 0.2), (0.8, 0.8)])
    page.wait_for_selector("text=Now draw a query")
    _draw(page, canvases.nth(2), [(0.5, 0.1), (0.5, 0.9)])
    page.wait_for_selector("text=Classified in")
    text = page.inner_text('[data-testid="stMain"]')
    assert "prediction" in text and "ring" in text, text
    undo = main.locator('[class*="st-key-draw_query_undo"] button')
    expect(undo).to_be_visible()  # a visible button, not a toolbar icon shown on hover
    rerun(page, lambda: undo.click())
    page.wait_for_selector("text=Now draw a query")  # the one stroke undone: an empty query canvas again
    _draw(page, canvases.nth(2), [(0.5, 0.1), (0.5, 0.9)])
    page.wait_for_selector("text=Classified in")
    save_screenshot(page, "your_images_draw.png")


def test_you_vs_the_model_plays_three_trials_and_compares(app_url, page):
    page.goto(f"{app_url}/You_vs_the_model")
    wait_idle(page)
    main = page.locator('[data-testid="stMain"]')
    if not main.get_by_role("radio", name="glyphs").is_checked():  # the only choice when Omniglot is absent
        rerun(page, lambda: main.get_by_text("glyphs", exact=True).click())
    trials = page.get_by_label("trials")
    trials.fill("3")
    rerun(page, lambda: trials.press("Enter"))
    rerun(page, lambda: page.get_by_role("button", name="Start").click())
    for trial in range(3):
        assert f"Trial {trial + 1} of 3" in main.inner_text()
        assert loaded_images(page) == 1 + 5  # the query and one drawing of each character
        rerun(page, lambda: page.get_by_role("button", name="3", exact=True).click())
    text = main.inner_text()
    assert "Your accuracy" in text and "Trial 4" not in text
    page.wait_for_function(
        "[...document.querySelectorAll('.gtitle')].some(t => t.textContent.startsWith('You and the models'))",
        timeout=120_000,
    )
    assert "people in Lake et al. (2015): 95.5%" in main.inner_text()
    save_screenshot(page, "you_vs_the_model.png")


def test_compare_streams_a_run_and_offers_the_csv(app_url, page):
    page.goto(f"{app_url}/Compare?cmp_episodes=3")
    wait_idle(page)
    rerun(page, lambda: page.get_by_role("button", name="Run the comparison").click())
    main = page.locator('[data-testid="stMain"]')
    assert "checked: equal SHA-256" in main.inner_text()
    assert page.get_by_role("button", name="Results (CSV)").count() == 1
    page.wait_for_function(
        "[...document.querySelectorAll('.gtitle')].some(t => t.textContent.startsWith('Query accuracy with 95% CI'))",
        timeout=120_000,
    )
    save_screenshot(page, "compare.png")


FIRST_LOAD = {  # page URL -> the README screenshot it makes with $MLP_SCREENSHOTS set
    "": "home.png", "Episodes": "episodes.png", "Prototypical_Networks": "protonet.png", "MAML": "maml.png",
    "MAML_regression": "maml_regression.png", "Relation_Networks": "relation.png",
    "Your_images": "your_images_first.png", "Compare": "compare_first.png",
    "You_vs_the_model": "you_vs_the_model_first.png",
    "Which_algorithm": "which_algorithm.png",
}  # fmt: skip


@pytest.mark.parametrize("path", list(FIRST_LOAD))
def test_every_page_but_the_learn_texts_shows_a_chart_or_an_image_before_any_click(app_url, page, path):
    page.goto(f"{app_url}/{path}")
    wait_idle(page)
    assert not page.locator('[data-testid="stException"]').count()
    main = '[data-testid="stMain"]'
    charts = page.locator(f'{main} [data-testid="stPlotlyChart"], {main} [data-testid="stGraphVizChart"]').count()
    images = loaded_images(page)
    tables = page.locator(f'{main} [data-testid="stDataFrame"]').count()
    assert charts + images + (path == "Which_algorithm") * tables > 0, f"/{path} shows no chart and no image"
    save_screenshot(page, FIRST_LOAD[path])


YOUR_VIEWPORT = {"width": 1280, "height": 800}
QUERY_DROPZONE = f'[class*="st-key-your_queries_upload_"] {DROPZONE}'


def _your_images_with_the_example(app_url, page):
    """The Your images page at 1280x800 with the example set loaded and classified."""
    page.set_viewport_size(YOUR_VIEWPORT)
    page.goto(f"{app_url}/Your_images")
    wait_idle(page)
    rerun(page, lambda: page.get_by_role("button", name="Load an example").click())
    page.wait_for_selector("text=Predictions of")
    wait_idle(page)
    return page.locator('[data-testid="stMain"]')


def chosen_model(main) -> str:
    """What the page's model picker shows (its first select box)."""
    return main.locator('[data-testid="stSelectbox"]').first.locator('input[role="combobox"]').input_value()


def _upload_query(page, main, path) -> None:
    """Scroll the query uploader into view as a visitor would, then drop ``path`` on it."""
    main.locator('[class*="st-key-your_queries_upload_"]').scroll_into_view_if_needed()
    rerun(page, lambda: main.locator(QUERY_DROPZONE).set_input_files(str(path)))


def test_a_bad_query_file_is_reported_beside_the_query_uploader_in_view(app_url, page, tmp_path):
    main = _your_images_with_the_example(app_url, page)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    _upload_query(page, main, broken)
    message = main.locator('[data-testid="stAlert"]', has_text="broken.png")
    # an upload can take a second run to be read and reported (a CI run beside a training job once counted
    # the first and looked before the second): wait for the message itself
    message.first.wait_for(state="visible", timeout=60_000)
    assert message.count() == 1, main.inner_text()
    box = message.bounding_box()  # after the rerun, without scrolling: where the visitor is looking
    assert 0 <= box["y"] < YOUR_VIEWPORT["height"], box
    uploader = main.locator('[class*="st-key-your_queries_upload_"]').bounding_box()
    assert box["y"] > uploader["y"], (box, uploader)  # under the uploader that caused it
    assert not page.locator('[data-testid="stException"]').count()


def test_a_blank_query_is_named_in_a_warning_and_its_gallery_caption_says_blank(app_url, page, tmp_path):
    from PIL import Image

    main = _your_images_with_the_example(app_url, page)
    blank = tmp_path / "clear.png"  # short: the gallery cuts names over 14 characters
    Image.new("RGBA", (64, 64), (0, 0, 0, 0)).save(blank)
    _upload_query(page, main, blank)
    warning = main.locator('[data-testid="stAlert"]', has_text="clear.png looks empty")
    assert warning.count() == 1, main.inner_text()
    page.wait_for_selector("text=Predictions of")
    captions = main.locator('[data-testid="stCaptionContainer"]').all_inner_texts()
    at = next(i for i, text in enumerate(captions) if text.startswith("clear.png") and "→" in text)
    assert "blank" in captions[at + 1], captions
    assert not page.locator('[data-testid="stException"]').count()


def test_the_page_predicts_the_example_queries_like_the_python_api(app_url, page):
    from core import load_learner
    from core.user import load_class_set

    main = _your_images_with_the_example(app_url, page)
    picked = chosen_model(main)
    assert "shipped " in picked, picked
    checkpoint = picked.rsplit("shipped ", 1)[1].split()[0]
    captions = main.locator('[data-testid="stCaptionContainer"]').all_inner_texts()
    shown = [text.split("→", 1)[1].strip().rsplit(" (", 1)[0] for text in captions if "→" in text]
    example = load_class_set((ROOT / "assets/examples/symbols.zip").read_bytes())
    support = [(item.image, c.name) for c in example.classes for item in c.images]
    learner = load_learner(ROOT / "assets" / checkpoint)
    expected = learner.predict([s[0] for s in support], [s[1] for s in support], [q.image for q in example.queries])
    assert len(shown) == len(example.queries) == 4, shown
    assert shown == expected.labels, (shown, expected.labels)


def test_a_genuine_checkpoint_pair_loads_after_a_bad_file_and_no_temp_path_shows(app_url, page, tmp_path):
    import shutil

    page.set_viewport_size(YOUR_VIEWPORT)
    page.goto(f"{app_url}/Your_images")
    wait_idle(page)
    main = page.locator('[data-testid="stMain"]')
    main.get_by_text("Upload a checkpoint", exact=True).click()
    files = main.locator('[class*="st-key-your_checkpoint_upload"] input[type="file"]')
    evil = tmp_path / "evil.safetensors"
    evil.write_bytes(b"\x00" * 64)
    rerun(page, lambda: files.set_input_files(str(evil)))
    assert main.locator('[data-testid="stAlert"]', has_text="This checkpoint was not loaded").count() == 1
    for suffix in (".json", ".safetensors"):
        shutil.copy(ROOT / "assets" / f"protonet-glyphs{suffix}", tmp_path / f"mine{suffix}")
    rerun(page, lambda: files.set_input_files([str(tmp_path / "mine.json"), str(tmp_path / "mine.safetensors")]))
    text = main.inner_text()
    assert "Loaded uploaded: mine" in text, text
    assert "upload.safetensors" not in text and "/tmp/" not in text, text
    assert not page.locator('[data-testid="stException"]').count()
