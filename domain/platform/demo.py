"""A demo catalogue: real JPEG images drawn with Pillow and one real short MP4 clip."""

from __future__ import annotations

import colorsys
import io
from pathlib import Path

from domain.platform.embedded_s3 import DemoExtraMissing
from domain.platform.s3 import S3Service

try:
    from PIL import Image, ImageDraw
except ImportError:
    raise DemoExtraMissing("the demo catalogue (Pillow)") from None

CLIP = Path(__file__).parent / "assets" / "demo-clip.mp4"
MODELS = [
    ("Aurora Vale", 6),
    ("Bruno Díaz", 4),
    ("Chloé Martin", 5),
    ("Dmitri Volkov", 3),
    ("Emi Tanaka", 7),
    ("Farah Haddad", 2),
    ("Gia Rossi", 5),
    ("Hana Kim", 4),
]


def image_bytes(label: str, hue: float, size: tuple[int, int] = (480, 600)) -> bytes:
    """A gradient JPEG with a label, distinct per call."""
    w, h = size
    img = Image.new("RGB", size)
    draw = ImageDraw.Draw(img)
    for y in range(0, h, 4):
        r, g, b = colorsys.hsv_to_rgb((hue + y / h * 0.15) % 1.0, 0.55, 0.95 - 0.4 * y / h)
        draw.rectangle([0, y, w, y + 4], fill=(int(r * 255), int(g * 255), int(b * 255)))
    draw.ellipse([w * 0.3, h * 0.25, w * 0.7, h * 0.25 + w * 0.4], outline="white", width=6)
    draw.text((16, h - 40), label, fill="white")
    out = io.BytesIO()
    img.save(out, "JPEG", quality=70)
    return out.getvalue()


def demo_objects() -> list[tuple[str, bytes]]:
    """(key, body) for the whole demo catalogue, in the bucket layout Model/Post/file."""
    objects: list[tuple[str, bytes]] = []
    clip = CLIP.read_bytes()
    for index, (name, posts) in enumerate(MODELS):
        hue = index / len(MODELS)
        objects.append((f"{name}/cover.jpg", image_bytes(name, hue)))
        objects.append((f"{name}/profile/icon.jpg", image_bytes(name[:1], hue, (256, 256))))
        objects.append((f"{name}/profile/banner.jpg", image_bytes(name, hue, (1200, 400))))
        for p in range(1, posts + 1):
            post = f"Post {p:02d}"
            for i in range(1, 2 + (p + index) % 4):
                label = f"{name} / {post} / {i}"
                objects.append(
                    (f"{name}/{post}/img_{i:02d}.jpg", image_bytes(label, (hue + i * 0.07) % 1.0))
                )
            if (p + index) % 3 == 0:
                objects.append((f"{name}/{post}/clip.mp4", clip))
    objects.append(("README.txt", b"Demo bucket for CreatorFlix Admin\n"))
    objects.append(("Aurora Vale/Post 01/notes.txt", b"ignored: not media\n"))
    return objects


async def fill_bucket(s3: S3Service) -> int:
    """Create the bucket if needed and upload the demo catalogue; returns objects written."""
    await s3.create_bucket()
    objects = demo_objects()
    for key, body in objects:
        await s3.upload(key, body)
    return len(objects)
