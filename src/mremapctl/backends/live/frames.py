"""Length-prefixed pickles over a pipe: how forked children (and the zygote) report to their parent."""

from __future__ import annotations

import os
import pickle
import struct
from typing import Any, Iterator, List, Tuple

_LEN = struct.Struct("<I")


def write_frame(fd: int, message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    payload = _LEN.pack(len(data)) + data
    while payload:
        payload = payload[os.write(fd, payload) :]


def split_frames(buffer: bytes) -> Tuple[List[Any], bytes]:
    """The complete messages at the start of buffer, and what is left of it."""
    messages = []
    while len(buffer) >= _LEN.size:
        (length,) = _LEN.unpack_from(buffer)
        if len(buffer) < _LEN.size + length:
            break
        messages.append(pickle.loads(buffer[_LEN.size : _LEN.size + length]))
        buffer = buffer[_LEN.size + length :]
    return messages, buffer


def read_frames(fd: int) -> Iterator[Any]:
    """The messages on a pipe, until it closes."""
    buffer = b""
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return
        buffer += chunk
        messages, buffer = split_frames(buffer)
        yield from messages
