"""Files in: inputs read as bytes within a size bound, regular files and streams only.

Every input nea-policy reads (fact files, standard input, rule files, pack source texts, rule tests) comes through
`read_bytes` or `read_stream`, which count the bytes as they read: a special file (/dev/zero, a FIFO, a socket) is
refused before a byte is read, and a file that grows past the limit while it is read is refused when it does.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import IO

from nea_policy.errors import InputError

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
_CHUNK = 1024 * 1024

_KINDS = {
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFSOCK: "a socket",
}


def _too_large(name: str, what: str, max_bytes: int) -> InputError:
    return InputError(
        f"{what} over the limit of {max_bytes:,} bytes; raise it with --max-bytes if the file is genuine",
        code="file_too_large",
        location=name,
    )


def read_bytes(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES, label: str | None = None) -> bytes:
    """The bytes of a regular file, at most max_bytes of them; a clear error for every way that can fail."""
    name = label or str(path)
    try:
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, forever.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError("no such file; check the path", code="file_not_found", location=name) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file; name a .yaml or .json fact file inside it", code="is_a_directory", location=name) from None
    except PermissionError:
        raise InputError("permission denied; check that the file is readable", code="permission_denied", location=name) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError("is a loop of symbolic links; name the file itself", code="symlink_loop", location=name) from None
        raise InputError(f"cannot be opened: {exc.strerror or exc}", code="cannot_read", location=name) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InputError("is a directory, not a file; name a .yaml or .json fact file inside it", code="is_a_directory", location=name)
        if not stat.S_ISREG(info.st_mode):
            kind = _KINDS.get(stat.S_IFMT(info.st_mode), "not a regular file")
            raise InputError(f"is {kind}, not a regular file; save the input to a file, or pipe it into `-`", code="not_a_regular_file", location=name)
        if info.st_size > max_bytes:
            raise _too_large(name, f"file is {info.st_size:,} bytes,", max_bytes)
        chunks: list[bytes] = []
        total = 0
        while True:
            try:
                chunk = os.read(fd, min(_CHUNK, max_bytes + 1 - total))
            except OSError as exc:
                raise InputError(f"cannot be read: {exc.strerror or exc}", code="cannot_read", location=name) from None
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:
                # The size said otherwise (a file that grows, or one of /proc's): the bytes read are what counts.
                raise _too_large(name, "file holds more than that,", max_bytes)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_stream(stream: IO[bytes], *, max_bytes: int = DEFAULT_MAX_BYTES, label: str = "<stdin>") -> bytes:
    """At most max_bytes bytes of a stream (standard input), read to its end."""
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = stream.read(min(_CHUNK, max_bytes + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        if total > max_bytes:
            raise InputError(
                f"standard input is over the limit of {max_bytes:,} bytes; raise it with --max-bytes if the input is genuine",
                code="file_too_large",
                location=label,
            )
    return b"".join(chunks)


__all__ = ["DEFAULT_MAX_BYTES", "read_bytes", "read_stream"]
