"""`make demo`: generate a real image-to-video clip and read its shape back from the file.

Runs against the built-in emulator unless QUBRID_API_KEY is set (then against the real API,
which costs credits). The input image is drawn here, so the image-to-video path is shown.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import av
from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "out"


def _input_image(path: Path) -> None:
    picture = Image.new("RGB", (1280, 720), (250, 235, 200))
    draw = ImageDraw.Draw(picture)
    for i in range(12):
        draw.ellipse((80 + i * 95, 200 + (i % 3) * 90, 160 + i * 95, 280 + (i % 3) * 90), fill=(200, 40 + i * 15, 120))
    draw.rectangle((0, 560, 1280, 720), fill=(60, 140, 60))
    picture.save(path)


def main() -> int:
    """Make the input, run `qubrid-video generate`, print what the file holds."""
    OUT.mkdir(exist_ok=True)
    image, video = OUT / "demo-input.png", OUT / "demo.mp4"
    _input_image(image)
    command = [str(Path(sys.executable).parent / "qubrid-video"), "generate",
               "A butterfly flying through a flower garden", "--image", str(image),
               "--duration", "5", "--resolution", "720p", "--fps", "24", "-o", str(video), "--overwrite"]  # fmt: skip
    if not os.environ.get("QUBRID_API_KEY"):
        command.append("--emulator")
        print("No QUBRID_API_KEY: using the built-in emulator (offline, free).")
    result = subprocess.run(command, check=False)
    if result.returncode != 0:
        return result.returncode
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        audio = "with audio" if container.streams.audio else "no audio"
        seconds = float(container.duration or 0) / 1_000_000
        print(f"{video}: {stream.width}x{stream.height}, {float(stream.average_rate or 0):g} fps, "
              f"{seconds:.2f} s, {stream.codec_context.name}, {audio}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
