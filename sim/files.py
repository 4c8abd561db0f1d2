"""Writing files so that nothing is ever half-written: one atomic write, one staged folder."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from pathlib import Path

from .errors import InputError


def check_out_dir(out: Path) -> None:
    """Refuse to overwrite: a published figure must keep pointing at the run that made it."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"{out}: output folder already exists and is not empty; choose another --out")


def claim_out_dir(out: Path, owner_file: str) -> None:
    """Create `out` (or take it if empty) and, atomically, its `owner_file`: of two runs given the
    same folder at once, exactly one creates that file (O_EXCL); the other is refused."""
    out = Path(out)
    check_out_dir(out)
    out.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(out / owner_file, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    except FileExistsError:
        raise InputError(f"{out}: another run has just started in this folder; choose another --out") from None


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write `data` to a temporary file beside `path`, flush it to disk and rename it into place:
    a reader (or a kill) sees the old file or the whole new one, never part of it."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; outputs are for sharing
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def staged(out: Path, replace: bool = False):
    """A private staging folder beside `out`, renamed to `out` when the block succeeds.

    `out` must not exist or be empty, unless `replace` (a folder that is always regenerated,
    such as a report's charts), when an existing one is removed just before the rename."""
    out = Path(out)
    if not replace:
        check_out_dir(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        staging.chmod(0o755)  # mkdtemp makes it private; a run folder is for sharing
        yield staging
        try:
            if out.is_dir() and replace:
                shutil.rmtree(out)
            elif out.exists():
                out.rmdir()  # empty (checked above)
            os.replace(staging, out)  # refused if another run filled `out` meanwhile: never merged
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
            raise InputError(f"{out}: another run wrote this folder meanwhile; choose another --out") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def zip_folder(folder: Path) -> bytes:
    """A folder and everything below it as the bytes of a zip file (names relative to its parent)."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.is_symlink():
                archive.write(path, path.relative_to(folder.parent))
    return buffer.getvalue()
