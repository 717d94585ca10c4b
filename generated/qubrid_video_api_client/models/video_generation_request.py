from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="VideoGenerationRequest")


@_attrs_define
class VideoGenerationRequest:
    """
    Attributes:
        model (str): The video generation model to use. Example: p-video.
        prompt (str | Unset): Optional text prompt describing the video to generate. Example: A butterfly flying through
            a flower garden.
        duration (int | Unset): Duration of the generated video in seconds. Example: 5.
        resolution (str | Unset): Output video resolution. Example: 720p.
        fps (int | Unset): Frames per second for the generated video. Example: 24.
        aspect_ratio (str | Unset): Aspect ratio of the output video. Example: 16:9.
        image (None | str | Unset): Optional input image URL to guide or initialize video generation. Example:
            https://example.com/input-image.jpg.
        audio (None | str | Unset): Optional input audio URL to include in the generated video. Example:
            https://example.com/audio.mp3.
        draft (bool | Unset): Whether to generate a draft/preview version of the video. Default: False.
        save_audio (bool | Unset): Whether to retain the provided audio in the final generated video. Default: True.
        prompt_upsampling (bool | Unset): Whether to automatically enhance or expand the prompt before generation.
            Default: True.
    """

    model: str
    prompt: str | Unset = UNSET
    duration: int | Unset = UNSET
    resolution: str | Unset = UNSET
    fps: int | Unset = UNSET
    aspect_ratio: str | Unset = UNSET
    image: None | str | Unset = UNSET
    audio: None | str | Unset = UNSET
    draft: bool | Unset = False
    save_audio: bool | Unset = True
    prompt_upsampling: bool | Unset = True
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
        if draft is not UNSET:
            field_dict["draft"] = draft
        if save_audio is not UNSET:
            field_dict["save_audio"] = save_audio
        if prompt_upsampling is not UNSET:
            field_dict["prompt_upsampling"] = prompt_upsampling

        return field_dict

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

        draft = d.pop("draft", UNSET)

        save_audio = d.pop("save_audio", UNSET)

        prompt_upsampling = d.pop("prompt_upsampling", UNSET)

        video_generation_request = cls(
            model=model,
            prompt=prompt,
            duration=duration,
            resolution=resolution,
            fps=fps,
            aspect_ratio=aspect_ratio,
            image=image,
            audio=audio,
            draft=draft,
            save_audio=save_audio,
            prompt_upsampling=prompt_upsampling,
        )

        video_generation_request.additional_properties = d
        return video_generation_request

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
