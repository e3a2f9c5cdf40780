import base64
import io

import numpy as np
import torch
from PIL import Image

from core.figures.montage import classes_per_row, display_scale, image_row, png_data_url, to_display


def test_row_places_images_side_by_side_with_gaps():
    images = torch.stack([torch.full((1, 2, 3), v, dtype=torch.uint8) for v in (10, 20, 30)])
    row = image_row(images, scale=2, gap=1, gap_value=255)
    assert row.shape == (4, 3 * 6 + 2)
    assert row[0, 0] == 10 and row[0, 6] == 255 and row[0, 7] == 20 and row[0, -1] == 30


def test_colour_images_keep_three_channels():
    images = torch.zeros(2, 3, 4, 4, dtype=torch.uint8)
    assert image_row(images).shape == (4, 4 * 2 + 4, 3)
    assert to_display(images, 3)[0].shape == (12, 12, 3)


def test_upscaling_is_nearest_neighbour():
    image = torch.tensor([[[[0, 255]]]], dtype=torch.uint8)
    assert to_display(image, 2)[0].tolist() == [[0, 0, 255, 255], [0, 0, 255, 255]]


def test_display_scale_brings_small_images_up():
    assert display_scale(28) == 2 and display_scale(84) == 1 and display_scale(200) == 1


def test_classes_per_row_keeps_twenty_thumbnails_a_row():
    assert classes_per_row(20, 5) == 4
    assert classes_per_row(5, 1) == 5
    assert classes_per_row(20, 1) == 6
    assert classes_per_row(3, 30) == 1


def test_png_data_url_decodes_back_to_the_same_pixels():
    image = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    url = png_data_url(image)
    assert url.startswith("data:image/png;base64,")
    decoded = np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))
    assert decoded.tolist() == image.tolist()
    colour = np.zeros((2, 2, 3), dtype=np.uint8)
    colour[0, 1] = (255, 0, 0)
    pixels = np.asarray(Image.open(io.BytesIO(base64.b64decode(png_data_url(colour).split(",", 1)[1]))))
    assert pixels.shape == (2, 2, 3) and pixels[0, 1].tolist() == [255, 0, 0]
