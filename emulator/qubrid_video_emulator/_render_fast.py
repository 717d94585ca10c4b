"""The fast render: a plain, small, valid H.264 MP4 of the asked shape, in tens of milliseconds.

Encoding every frame of 5 s of 1080p costs about half a second even for a blank picture. Here
the encoder makes two frames only, both IDR (self-contained) pictures of one colour, and the file
repeats them, alternating, for every frame of the duration. Consecutive IDR pictures must differ
in ``idr_pic_id`` (H.264, 7.4.3), which the two do (x264 alternates it between 0 and 1); IDR
pictures depend on nothing before them, so the stream decodes like one encoded frame by frame:
the right width, height, frame rate, frame count and duration, about a kilobyte a frame at
1080p. A silent AAC track of the same duration stands in for the audio when the job has some.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from ._render import AUDIO_RATE, RenderJob, mp4

if TYPE_CHECKING:
    # Loaded on the first render, not with the server (see _render).
    import av

_COLOUR = (55, 35, 95)  # the middle of the full render's gradient
# qp 51: the coarsest quantiser, for the smallest pictures; keyint=1: every frame an IDR picture.
_X264 = {"preset": "veryfast", "qp": "51", "x264-params": "keyint=1:min-keyint=1:scenecut=0"}
_AAC_FRAME = 1024


def _pictures(stream: av.VideoStream, job: RenderJob) -> list[bytes]:
    """Two encoded IDR pictures of one colour, as the stream's encoder writes them."""
    import av  # noqa: PLC0415 - PyAV and Pillow load on the first render
    from PIL import Image  # noqa: PLC0415

    frame = av.VideoFrame.from_image(Image.new("RGB", (job.width, job.height), _COLOUR))  # type: ignore[no-untyped-call]
    packets = []
    for index in range(2):
        frame.pts = index
        packets += stream.encode(frame)
    packets += stream.encode(None)
    pictures = [bytes(packet) for packet in packets]
    if len(pictures) != 2:
        raise RuntimeError(f"the encoder gave {len(pictures)} pictures for 2 frames")
    return pictures


def _mux_video(container: av.container.OutputContainer, stream: av.VideoStream, job: RenderJob) -> None:
    import av  # noqa: PLC0415 - PyAV loads on the first render

    pictures = _pictures(stream, job)
    time_base = Fraction(1, job.fps)
    for index in range(max(1, round(job.fps * job.duration))):
        packet = av.Packet(pictures[index % 2])
        packet.pts = packet.dts = index
        packet.duration = 1
        packet.time_base = time_base
        packet.stream = stream
        packet.is_keyframe = True
        container.mux(packet)


def _mux_silence(container: av.container.OutputContainer, stream: av.AudioStream, job: RenderJob) -> None:
    import av  # noqa: PLC0415 - PyAV loads on the first render

    remaining = round(AUDIO_RATE * job.duration)
    written = 0
    while remaining > 0:
        samples = min(_AAC_FRAME, remaining)
        frame = av.AudioFrame(format="fltp", layout="stereo", samples=samples)
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.sample_rate, frame.pts = AUDIO_RATE, written
        container.mux(stream.encode(frame))
        written, remaining = written + samples, remaining - samples
    container.mux(stream.encode(None))


def render_fast(job: RenderJob, dest: Path) -> None:
    """Write the fast video for `job`'s shape to `dest`, atomically (a temporary file renamed into place)."""
    with mp4(job, dest, _X264) as (container, video, audio):
        _mux_video(container, video, job)
        if audio is not None:
            _mux_silence(container, audio, job)
