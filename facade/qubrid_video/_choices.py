"""The documented choices of ``videos.generate()``'s text parameters, as ``Literal`` types.

They exist for type checkers and editors only: at run time the SDK sends any string as given and
the server decides. ``resolution`` and ``aspect_ratio`` are typed with the strict alias, so a
checker flags a typo such as ``"4k"`` (as openai-python types its choice parameters); a value
newer than this SDK is passed with a cast, which changes nothing at run time::

    client.videos.generate(model="p-video", resolution=typing.cast(Resolution, "1440p"))

``model`` is typed ``Model | str``: editors complete the known names, and any other name is
accepted without a cast (the pattern openai-python uses for model names).
"""

from __future__ import annotations

from typing import Literal, TypeAlias

Resolution: TypeAlias = Literal["720p", "1080p"]
"""The output resolutions p-video publishes (its default: ``"720p"``).

A value newer than this SDK: ``typing.cast(Resolution, "1440p")``; it is sent unchanged.
"""

AspectRatio: TypeAlias = Literal["16:9", "9:16", "1:1", "4:3", "3:4", "3:2", "2:3"]
"""The aspect ratios p-video publishes; an input image sets it instead.

A value newer than this SDK: ``typing.cast(AspectRatio, "21:9")``; it is sent unchanged.
"""

Model: TypeAlias = Literal["p-video"]
"""The video models this SDK knows; ``generate(model=...)`` takes any other name as well."""
