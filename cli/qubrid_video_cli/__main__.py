"""``python -m qubrid_video_cli``: the ``qubrid-video`` command, for when its script is not on PATH."""

from . import main

if __name__ == "__main__":
    main()
