"""A download that cannot be written whole fails loudly, and leaves nothing behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from qubrid_video import Qubrid
from qubrid_video_emulator import Emulator

# In a fresh interpreter: cap the size of any file it writes, then download. SIGXFSZ is ignored so
# a write past the cap fails with EFBIG instead of killing the process.
_DOWNLOAD = """
import resource, signal, sys
import qubrid_video as qv
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
try:
    qv.Video(url=sys.argv[1], created=None, request_id=None).download(sys.argv[2])
except OSError as exc:
    print(type(exc).__name__, exc.errno)
"""


def test_a_file_size_limit_fails_the_download_instead_of_truncating_it(emulator: Emulator, tmp_path: Path) -> None:
    """A write the file system takes only in part (EFBIG at a size limit) is an error, not a short video."""
    with Qubrid(api_key=emulator.api_key, base_url=emulator.base_url) as client:
        video = client.videos.generate(model="p-video", prompt="a", duration=1, aspect_ratio="1:1", draft=True)
    target = tmp_path / "v.mp4"
    result = subprocess.run([sys.executable, "-c", _DOWNLOAD, video.url, str(target)], capture_output=True,
                            text=True, timeout=60, check=True)  # fmt: skip
    assert result.stdout.split() == ["DownloadError", "27"]  # EFBIG, as a documented error
    assert list(tmp_path.iterdir()) == []
