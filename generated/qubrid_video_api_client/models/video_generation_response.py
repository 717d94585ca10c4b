from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.video_generation_response_data_item import VideoGenerationResponseDataItem


T = TypeVar("T", bound="VideoGenerationResponse")


@_attrs_define
class VideoGenerationResponse:
    """
    Attributes:
        created (int | Unset): Unix timestamp when the video generation request was created. Example: 1710000000.
        data (list[VideoGenerationResponseDataItem] | Unset):
    """

    created: int | Unset = UNSET
    data: list[VideoGenerationResponseDataItem] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created = self.created

        data: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.data, Unset):
            data = []
            for data_item_data in self.data:
                data_item = data_item_data.to_dict()
                data.append(data_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if created is not UNSET:
            field_dict["created"] = created
        if data is not UNSET:
            field_dict["data"] = data

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.video_generation_response_data_item import VideoGenerationResponseDataItem

        d = dict(src_dict)
        created = d.pop("created", UNSET)

        _data = d.pop("data", UNSET)
        data: list[VideoGenerationResponseDataItem] | Unset = UNSET
        if _data is not UNSET:
            data = []
            for data_item_data in _data:
                data_item = VideoGenerationResponseDataItem.from_dict(data_item_data)

                data.append(data_item)

        video_generation_response = cls(
            created=created,
            data=data,
        )

        video_generation_response.additional_properties = d
        return video_generation_response

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
