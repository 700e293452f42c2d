"""Writing an output so that an interrupted job never leaves a half-written file."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class OutputError(OSError):
    """An output could not be written (the message names it and, if so, a full disk)."""


@contextmanager
def replaced_atomically(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it to `path` on success, delete it on failure.

    An interrupted job thus never leaves a half-written output for Snakemake to mistake as done.
    Temporary files that a killed job left for the same output are removed first (a job that
    writes an output is its only writer), and the output gets the user's umask, not mkstemp's
    private mode 0600.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{path.stem}.tmp-"
    for stale in path.parent.glob(f"{prefix}*{path.suffix}"):
        stale.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except (OSError, RuntimeError) as err:  # netCDF4 reports a full disk as a RuntimeError
        Path(tmp).unlink(missing_ok=True)
        free = shutil.disk_usage(path.parent).free
        full = f"; no space left on its device ({free} bytes free)" if free < 2**20 else ""
        raise OutputError(f"could not write {path}: {err}{full}") from err
    finally:
        Path(tmp).unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
