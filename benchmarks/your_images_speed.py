"""How fast "Your images" answers, on this machine's CPU, for the README.

    python -m benchmarks.your_images_speed [--repeats 7]

- classes: 5 classes x 5 images and 10 queries (112x112 PNGs of ink on paper, as scanned) with the
  shipped Omniglot Prototypical Networks model: decoding every upload, the model's preprocessing
  and classification (target: under 1 s from the last upload to visible predictions);
- page: the whole "Your images" page script with that class set (AppTest, server side, the figures
  included; the browser's own drawing is not counted);
- draw: one drawing per class for 3 classes and a query drawing, decoded and classified, as after
  each stroke in draw-live mode (target: under 300 ms).
Medians of ``--repeats`` runs after one warm-up (the first model load is excluded).
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from pathlib import Path

import torch
from PIL import Image

from benchmarks.timing import median_ms
from core.checkpoints import load_checkpoint
from core.datasets import GlyphsConfig, load_glyphs
from core.user import ClassSet, NamedImage, UserClass, decode_image
from core.user.classify import classify

ROOT = Path(__file__).resolve().parents[1]


def scanned_pngs(n_classes: int, per_class: int) -> list[list[bytes]]:
    glyphs = load_glyphs(GlyphsConfig())
    classes = glyphs.classes_in("evaluation")[:n_classes]
    out = []
    for c in classes:
        pngs = []
        for image in glyphs.class_images(int(c))[:per_class]:
            buffer = io.BytesIO()
            Image.fromarray(255 - image[0].numpy()).resize((112, 112)).save(buffer, format="PNG")
            pngs.append(buffer.getvalue())
        out.append(pngs)
    return out


def decode_and_classify(pngs: list[list[bytes]], shots: int, model) -> None:
    def named(name: str, data: bytes) -> NamedImage:
        return NamedImage(name, decode_image(name, data).image)

    classes = [UserClass(f"c{k}", [named(f"{k}-{i}.png", data) for i, data in enumerate(images[:shots])])
               for k, images in enumerate(pngs)]  # fmt: skip
    queries = [NamedImage(f"q{k}-{i}.png", decode_image("q.png", data).image)
               for k, images in enumerate(pngs) for i, data in enumerate(images[shots:])]  # fmt: skip
    classify(ClassSet(classes, queries), model)


def page_run(pngs: list[list[bytes]]) -> float:
    from streamlit.testing.v1 import AppTest

    classes = [UserClass(f"c{k}", [NamedImage(f"{i}.png", decode_image("x.png", d).image) for i, d in enumerate(p[:5])])
               for k, p in enumerate(pngs)]  # fmt: skip
    queries = [NamedImage(f"q{k}.png", decode_image("q.png", p[5 + k % 2]).image) for k, p in enumerate(pngs * 2)]
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/6_Your_images.py")
    at.session_state["your_set"] = ClassSet(classes, queries)
    at.run()
    at.selectbox(key="your_model").set_value("Prototypical Networks · shipped protonet-omniglot")
    times = []
    for _ in range(4):
        start = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - start)
        assert not at.exception, [e.value for e in at.exception]
    return 1000 * statistics.median(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per measure")
    args = parser.parse_args()
    model, _ = load_checkpoint(ROOT / "assets" / "protonet-omniglot")
    pngs = scanned_pngs(5, 7)
    rows = [
        ("5 classes x 5 images + 10 queries: decode, preprocess, classify", median_ms(
            lambda: decode_and_classify(pngs, 5, model), args.repeats), 1000),
        ("draw live: 3 drawings + 1 query: decode, preprocess, classify", median_ms(
            lambda: decode_and_classify([p[:2] for p in pngs[:3]], 1, model), args.repeats), 300),
        ("the whole page script with that class set (AppTest, server side)", page_run(pngs), 1000),
    ]  # fmt: skip
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, model assets/protonet-omniglot\n")
    print("| measure | median ms | target ms |\n|---|---:|---:|")
    for name, value, target in rows:
        print(f"| {name} | {value:.0f} | {target} |")


if __name__ == "__main__":
    main()
