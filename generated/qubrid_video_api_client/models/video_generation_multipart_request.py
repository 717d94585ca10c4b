from __future__ import annotations

from collections.abc import Mapping
from io import BytesIO
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from .. import types
from ..types import UNSET, File, FileTypes, Unset

T = TypeVar("T", bound="VideoGenerationMultipartRequest")


@_attrs_define
class VideoGenerationMultipartRequest:
    """
    Attributes:
        model (str): The video generation model to use. Example: p-video.
        prompt (str | Unset): Optional text prompt describing the video to generate. Example: A butterfly flying through
            a flower garden.
        duration (str | Unset): Duration of the generated video in seconds. Example: 5.
        resolution (str | Unset): Output video resolution. Example: 720p.
        fps (str | Unset): Frames per second for the generated video. Example: 24.
        aspect_ratio (str | Unset): Aspect ratio of the output video. Example: 16:9.
        image (None | str | Unset): Optional image URL input when sending multipart form data. Example:
            https://example.com/input-image.jpg.
        audio (None | str | Unset): Optional audio URL input when sending multipart form data. Example:
            https://example.com/audio.mp3.
        image_file (File | Unset): Optional image file upload.
        audio_file (File | Unset): Optional audio file upload.
        draft (str | Unset): Whether to generate a draft/preview version of the video. Example: false.
        save_audio (str | Unset): Whether to retain the provided audio in the final generated video. Example: true.
        prompt_upsampling (str | Unset): Whether to automatically enhance or expand the prompt before generation.
            Example: true.
    """

    model: str
    prompt: str | Unset = UNSET
    duration: str | Unset = UNSET
    resolution: str | Unset = UNSET
    fps: str | Unset = UNSET
    aspect_ratio: str | Unset = UNSET
    image: None | str | Unset = UNSET
    audio: None | str | Unset = UNSET
    image_file: File | Unset = UNSET
    audio_file: File | Unset = UNSET
    draft: str | Unset = UNSET
    save_audio: str | Unset = UNSET
    prompt_upsampling: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        model = self.model

        prompt = self.prompt

        duration = self.duration

        resolution = self.resolution

        fps = self.fps

        aspect_ratio = self.aspect_ratio

        image: None | str | Unset
        if isinstance(self.image, Unset):
            image = UNSET
        else:
            image = self.image

        audio: None | str | Unset
        if isinstance(self.audio, Unset):
            audio = UNSET
        else:
            audio = self.audio

        image_file: FileTypes | Unset = UNSET
        if not isinstance(self.image_file, Unset):
            image_file = self.image_file.to_tuple()

        audio_file: FileTypes | Unset = UNSET
        if not isinstance(self.audio_file, Unset):
            audio_file = self.audio_file.to_tuple()

        draft = self.draft

        save_audio = self.save_audio

        prompt_upsampling = self.prompt_upsampling

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "model": model,
            }
        )
        if prompt is not UNSET:
            field_dict["prompt"] = prompt
        if duration is not UNSET:
            field_dict["duration"] = duration
        if resolution is not UNSET:
            field_dict["resolution"] = resolution
        if fps is not UNSET:
            field_dict["fps"] = fps
        if aspect_ratio is not UNSET:
            field_dict["aspect_ratio"] = aspect_ratio
        if image is not UNSET:
            field_dict["image"] = image
        if audio is not UNSET:
            field_dict["audio"] = audio
        if image_file is not UNSET:
            field_dict["image_file"] = image_file
        if audio_file is not UNSET:
            field_dict["audio_file"] = audio_file
        if draft is not UNSET:
            field_dict["draft"] = draft
        if save_audio is not UNSET:
            field_dict["save_audio"] = save_audio
        if prompt_upsampling is not UNSET:
            field_dict["prompt_upsampling"] = prompt_upsampling

        return field_dict

    def to_multipart(self) -> types.RequestFiles:
        files: types.RequestFiles = []

        files.append(("model", (None, str(self.model).encode(), "text/plain")))

        if not isinstance(self.prompt, Unset):
            files.append(("prompt", (None, str(self.prompt).encode(), "text/plain")))

        if not isinstance(self.duration, Unset):
            files.append(("duration", (None, str(self.duration).encode(), "text/plain")))

        if not isinstance(self.resolution, Unset):
            files.append(("resolution", (None, str(self.resolution).encode(), "text/plain")))

        if not isinstance(self.fps, Unset):
            files.append(("fps", (None, str(self.fps).encode(), "text/plain")))

        if not isinstance(self.aspect_ratio, Unset):
            files.append(("aspect_ratio", (None, str(self.aspect_ratio).encode(), "text/plain")))

        if not isinstance(self.image, Unset):
            if isinstance(self.image, str):
                files.append(("image", (None, str(self.image).encode(), "text/plain")))
            else:
                pass

        if not isinstance(self.audio, Unset):
            if isinstance(self.audio, str):
                files.append(("audio", (None, str(self.audio).encode(), "text/plain")))
            else:
                pass

        if not isinstance(self.image_file, Unset):
            files.append(("image_file", self.image_file.to_tuple()))

        if not isinstance(self.audio_file, Unset):
            files.append(("audio_file", self.audio_file.to_tuple()))

        if not isinstance(self.draft, Unset):
            files.append(("draft", (None, str(self.draft).encode(), "text/plain")))

        if not isinstance(self.save_audio, Unset):
            files.append(("save_audio", (None, str(self.save_audio).encode(), "text/plain")))

        if not isinstance(self.prompt_upsampling, Unset):
            files.append(("prompt_upsampling", (None, str(self.prompt_upsampling).encode(), "text/plain")))

        for prop_name, prop in self.additional_properties.items():
            files.append((prop_name, (None, str(prop).encode(), "text/plain")))

        return files

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        model = d.pop("model")

        prompt = d.pop("prompt", UNSET)

        duration = d.pop("duration", UNSET)

        resolution = d.pop("resolution", UNSET)

        fps = d.pop("fps", UNSET)

        aspect_ratio = d.pop("aspect_ratio", UNSET)

        def _parse_image(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        image = _parse_image(d.pop("image", UNSET))

        def _parse_audio(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        audio = _parse_audio(d.pop("audio", UNSET))

        _image_file = d.pop("image_file", UNSET)
        image_file: File | Unset
        if isinstance(_image_file, Unset):
            image_file = UNSET
        else:
            image_file = File(payload=BytesIO(_image_file))

        _audio_file = d.pop("audio_file", UNSET)
        audio_file: File | Unset
        if isinstance(_audio_file, Unset):
            audio_file = UNSET
        else:
            audio_file = File(payload=BytesIO(_audio_file))

        draft = d.pop("draft", UNSET)

        save_audio = d.pop("save_audio", UNSET)

        prompt_upsampling = d.pop("prompt_upsampling", UNSET)

        video_generation_multipart_request = cls(
            model=model,
            prompt=prompt,
            duration=duration,
            resolution=resolution,
            fps=fps,
            aspect_ratio=aspect_ratio,
            image=image,
            audio=audio,
            image_file=image_file,
            audio_file=audio_file,
            draft=draft,
            save_audio=save_audio,
            prompt_upsampling=prompt_upsampling,
        )

        video_generation_multipart_request.additional_properties = d
        return video_generation_multipart_request

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
