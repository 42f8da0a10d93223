"""Shape and padding helpers that hls4ml scripts import from `hls4ml.converters.utils`.

They answer the questions a script asks before or after conversion (what the output size of a
convolution is, how "same" padding splits), with the rules the front ends use, so a script's
arithmetic and nnhls's never disagree. Invalid arguments raise `ConfigError` naming the value.
"""

from __future__ import annotations

from collections.abc import Sequence

from nnhls.config import ConfigError
from nnhls.dialects.types import conv_output_size
from nnhls.frontends.common import same_pads

__all__ = [
    "compute_padding_1d",
    "compute_padding_1d_pytorch",
    "compute_padding_2d",
    "compute_padding_2d_pytorch",
    "parse_data_format",
]

_DATA_FORMATS = ("channels_last", "channels_first")


def parse_data_format(
    input_shape: Sequence[int | None], data_format: str = "channels_last"
) -> tuple[int, ...]:
    """A 1-D or 2-D feature-map shape in channels-last order, without a leading `None` batch axis.

    (10, 3) stays (10, 3) channels-last and becomes (3, 10) channels-first; (None, 3, 8, 8)
    channels-first becomes (8, 8, 3).
    """
    if data_format not in _DATA_FORMATS:
        raise ConfigError(f"data_format {data_format!r} is not one of {', '.join(_DATA_FORMATS)}")
    shape = list(input_shape)
    if shape and shape[0] is None:
        shape = shape[1:]
    if len(shape) not in (2, 3) or any(not isinstance(d, int) or d < 0 for d in shape):
        raise ConfigError(
            f"input_shape {tuple(input_shape)!r} is not a (length, channels) or (height, width, channels) shape"
        )
    dims = [int(d) for d in shape if d is not None]
    if data_format == "channels_first":
        dims = dims[1:] + dims[:1]
    return tuple(dims)


def _positive(name: str, value: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    return value


def _pad_one_axis(
    pad_type: str, in_size: int, stride: int, filt_size: int, dilation: int = 1
) -> tuple[int, int, int]:
    in_size, stride = _positive("in_size", in_size), _positive("stride", stride)
    window = (_positive("filt_size", filt_size) - 1) * _positive("dilation", dilation) + 1
    kind = pad_type.lower() if isinstance(pad_type, str) else pad_type
    if kind == "same":
        begin, end = same_pads(in_size, filt_size, stride, dilation)
        return conv_output_size(in_size, filt_size, stride, dilation, begin + end), begin, end
    if kind == "valid":
        if window > in_size:
            raise ConfigError(
                f"a window of {window} does not fit an input of {in_size} with 'valid' padding"
            )
        return conv_output_size(in_size, filt_size, stride, dilation, 0), 0, 0
    raise ConfigError(f"padding {pad_type!r} is not 'same' or 'valid'")


def compute_padding_1d(
    pad_type: str, in_size: int, stride: int, filt_size: int
) -> tuple[int, int, int]:
    """Keras-style padding along one axis: (n_out, pad_left, pad_right)."""
    return _pad_one_axis(pad_type, in_size, stride, filt_size)


def compute_padding_2d(
    pad_type: str,
    in_height: int,
    in_width: int,
    stride_height: int,
    stride_width: int,
    filt_height: int,
    filt_width: int,
) -> tuple[int, int, int, int, int, int]:
    """Keras-style 2-D padding: (out_height, out_width, pad_top, pad_bottom, pad_left, pad_right)."""
    out_h, top, bottom = _pad_one_axis(pad_type, in_height, stride_height, filt_height)
    out_w, left, right = _pad_one_axis(pad_type, in_width, stride_width, filt_width)
    return out_h, out_w, top, bottom, left, right


def _pytorch_axis(
    padding: str | int, in_size: int, stride: int, filt_size: int, dilation: int
) -> tuple[int, int, int]:
    """PyTorch padding: 'same', 'valid', or an explicit symmetric count on each side."""
    if isinstance(padding, str):
        return _pad_one_axis(padding, in_size, stride, filt_size, dilation)
    if not isinstance(padding, int) or isinstance(padding, bool) or padding < 0:
        raise ConfigError(f"padding {padding!r} is not 'same', 'valid' or a non-negative integer")
    for name, value in (
        ("in_size", in_size),
        ("stride", stride),
        ("filt_size", filt_size),
        ("dilation", dilation),
    ):
        _positive(name, value)
    out = conv_output_size(in_size, filt_size, stride, dilation, 2 * padding)
    if out < 1:
        raise ConfigError(
            f"a window of {(filt_size - 1) * dilation + 1} does not fit an input of {in_size} padded by {padding}"
        )
    return out, padding, padding


def compute_padding_1d_pytorch(
    pad_type: str | int, in_size: int, stride: int, filt_size: int, dilation: int = 1
) -> tuple[int, int, int]:
    """PyTorch-style padding along one axis: (n_out, pad_left, pad_right)."""
    return _pytorch_axis(pad_type, in_size, stride, filt_size, dilation)


def compute_padding_2d_pytorch(
    pad_type: str | int | Sequence[int],
    in_height: int,
    in_width: int,
    stride_height: int,
    stride_width: int,
    filt_height: int,
    filt_width: int,
    dilation_height: int = 1,
    dilation_width: int = 1,
) -> tuple[int, int, int, int, int, int]:
    """PyTorch-style 2-D padding (`padding=` of Conv2d: a string, an int or an (h, w) pair):
    (out_height, out_width, pad_top, pad_bottom, pad_left, pad_right)."""
    if isinstance(pad_type, (str, int)):
        pad_h: str | int = pad_type
        pad_w: str | int = pad_type
    elif isinstance(pad_type, Sequence) and len(pad_type) == 2:
        pad_h, pad_w = pad_type[0], pad_type[1]
    else:
        raise ConfigError(
            f"padding {pad_type!r} is not 'same', 'valid', an integer or an (height, width) pair"
        )
    out_h, top, bottom = _pytorch_axis(
        pad_h, in_height, stride_height, filt_height, dilation_height
    )
    out_w, left, right = _pytorch_axis(pad_w, in_width, stride_width, filt_width, dilation_width)
    return out_h, out_w, top, bottom, left, right
