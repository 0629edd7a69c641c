"""Files in and out: inputs read as bytes within a size bound (regular files and streams only), outputs written safely.

Every input nea-policy reads (fact files, standard input, rule files, pack source texts, rule tests) comes through
`read_bytes` or `read_stream`, which count the bytes as they read: a special file (/dev/zero, a FIFO, a socket) is
refused before a byte is read, and a file that grows past the limit while it is read is refused when it does.
Every file it writes (`-o`, `new`) goes through `write_text`, which never overwrites one of the command's inputs
and follows a symbolic link only when told to.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
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


def _same_file(a: Path, b: str | Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def write_text(path: str | Path, text: str, *, force: bool = False, inputs: Iterable[str | Path] = (), exclusive: bool = False) -> Path:
    """Write text (UTF-8) to path: never over one of `inputs`, never through a symbolic link unless force.

    With exclusive, an existing file is refused too unless force (`nea-policy new`).
    """
    target = Path(path)
    name = str(path)
    try:
        info: os.stat_result | None = os.lstat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise InputError(f"cannot be written: {exc.strerror or exc}", code="cannot_write", location=name) from None
    if info is not None and stat.S_ISLNK(info.st_mode) and not force:
        dangling = "" if target.exists() else " to a path that does not exist"
        raise InputError(
            f"is a symbolic link{dangling}; nea-policy does not write through one", code="output_is_symlink", location=name, hint="name the file itself, or pass --force to follow the link"
        )
    if target.is_dir():
        raise InputError("is a directory; name a file to write", code="is_a_directory", location=name)
    for source in inputs:
        if str(source) != "-" and _same_file(target, source):
            raise InputError(f"is also an input of this command ({source}); writing would destroy it", code="output_is_input", location=name, hint="name another output file")
    if exclusive and not force and info is not None:
        raise InputError("already exists; choose another name, or pass --force to overwrite it", code="file_exists", location=name)
    if not target.parent.exists():
        raise InputError(f"the folder {target.parent} does not exist; create it first", code="no_such_folder", location=name)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
    if not force:
        # Checked above, and again here: a link that appears in between is not followed either.
        flags |= getattr(os, "O_NOFOLLOW", 0) | (os.O_EXCL if exclusive else 0)
    try:
        fd = os.open(target, flags, 0o666)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError("is a symbolic link; nea-policy does not write through one", code="output_is_symlink", location=name, hint="pass --force to follow the link") from None
        if exc.errno == errno.EEXIST:
            raise InputError("already exists; choose another name, or pass --force to overwrite it", code="file_exists", location=name) from None
        raise InputError(f"cannot be written: {exc.strerror or exc}", code="cannot_write", location=name) from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return target


__all__ = ["DEFAULT_MAX_BYTES", "read_bytes", "read_stream", "write_text"]
