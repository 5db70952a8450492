"""Download files once into a cache directory, checking their checksums.

Only the loaders of the large real datasets (full MNIST, CIFAR-10) use this, and only
when called with ``download=True``: the book and the tests never download anything.
A file already in the cache with the right checksum is used as is, so a lab machine
downloads each file once.

The cache directory is ``$CNNLIB_CACHE`` if set, else ``~/.cache/cnnlib``.
"""

import hashlib
import os
import shutil
import tempfile
import urllib.request
from collections.abc import Sequence
from pathlib import Path


class ChecksumError(ValueError):
    """A file's content does not match its expected checksum."""


def default_cache_dir() -> Path:
    """Where downloads go: $CNNLIB_CACHE, or ~/.cache/cnnlib."""
    return Path(os.environ.get("CNNLIB_CACHE", "~/.cache/cnnlib")).expanduser()


def file_digest(path: str | Path, algorithm: str = "sha256") -> str:
    """Hex digest of a file's bytes ("md5", "sha256", ...), read in chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _algorithm(checksum: str) -> str:
    """Recognise the algorithm from the digest length: 32 hex = md5, 64 = sha256."""
    algorithms = {32: "md5", 64: "sha256"}
    if len(checksum) not in algorithms:
        raise ValueError(
            "checksum must be an md5 (32 hex digits) or sha256 (64 hex digits) "
            f"digest, got {checksum!r}"
        )
    return algorithms[len(checksum)]


def verify_checksum(path: str | Path, checksum: str) -> None:
    """Raise ChecksumError unless the file's md5/sha256 digest equals checksum."""
    algorithm = _algorithm(checksum)
    actual = file_digest(path, algorithm)
    if actual != checksum.lower():
        raise ChecksumError(
            f"{path}: {algorithm} checksum mismatch: expected {checksum.lower()}, "
            f"got {actual}. The file is corrupt or not the expected one."
        )


def download_file(
    urls: str | Sequence[str],
    filename: str,
    checksum: str | None = None,
    root: str | Path | None = None,
    timeout: float = 60.0,
) -> Path:
    """Return the path of filename in the cache, downloading it first if needed.

    Args:
        urls: one URL or mirrors tried in order (http(s)://, file://, ...).
        filename: name of the file in the cache directory.
        checksum: expected md5 or sha256 hex digest; None skips the check.
        root: cache directory (default: :func:`default_cache_dir`).
        timeout: seconds to wait for each server.

    Raises:
        ChecksumError: a downloaded file (from every mirror) has the wrong digest.
        OSError: no mirror could be reached.
    """
    urls = [urls] if isinstance(urls, str) else list(urls)
    root = Path(root) if root is not None else default_cache_dir()
    target = root / filename
    if target.exists():
        if checksum is None:
            return target
        try:
            verify_checksum(target, checksum)
            return target
        except ChecksumError:
            pass  # a stale or truncated copy: download it again

    root.mkdir(parents=True, exist_ok=True)
    errors = []
    for url in urls:
        # Write to a temporary file and rename at the end, so an interrupted
        # download never leaves a half-written file under the final name.
        handle, partial = tempfile.mkstemp(dir=root, prefix=filename + ".")
        try:
            with (
                os.fdopen(handle, "wb") as out,
                urllib.request.urlopen(url, timeout=timeout) as response,
            ):
                shutil.copyfileobj(response, out)
            if checksum is not None:
                verify_checksum(partial, checksum)
            os.replace(partial, target)
            return target
        except (OSError, ChecksumError) as error:
            errors.append((url, error))
        finally:
            if os.path.exists(partial):
                os.remove(partial)

    if all(isinstance(error, ChecksumError) for _, error in errors):
        raise ChecksumError(
            f"download_file: every copy of {filename} had the wrong checksum:\n"
            + "\n".join(f"  {url}: {error}" for url, error in errors)
        )
    raise OSError(
        f"download_file: could not fetch {filename} from any of {len(urls)} URL(s):\n"
        + "\n".join(f"  {url}: {error}" for url, error in errors)
    )
