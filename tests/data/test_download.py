"""download_file and the download paths of mnist()/cifar10(), with file:// URLs only."""

import gzip
import hashlib
import io
import tarfile
import urllib.request

import pytest

import cnnlib.data.cifar as cifar_module
import cnnlib.data.handwritten as handwritten_module
from cnnlib.data import ChecksumError, cifar10, download_file, file_digest, mnist
from tests.data.test_readers import make_cifar_folder, make_mnist_folder


@pytest.fixture
def source(tmp_path):
    """A local 'server' folder with one file, and its sha256."""
    folder = tmp_path / "server"
    folder.mkdir()
    payload = b"some dataset bytes\n" * 100
    (folder / "data.bin").write_bytes(payload)
    return folder, hashlib.sha256(payload).hexdigest()


def test_download_copies_verifies_and_caches(tmp_path, source, monkeypatch):
    folder, sha256 = source
    url = (folder / "data.bin").as_uri()
    cache = tmp_path / "cache"
    path = download_file(url, "data.bin", sha256, root=cache)
    assert path == cache / "data.bin"
    assert path.read_bytes() == (folder / "data.bin").read_bytes()
    assert file_digest(path, "sha256") == sha256

    def offline(*args, **kwargs):
        raise AssertionError("a cached file with the right checksum was downloaded")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    assert download_file(url, "data.bin", sha256, root=cache) == path


def test_checksum_mismatch_is_a_clear_error_and_leaves_no_file(tmp_path, source):
    folder, _ = source
    wrong = "0" * 64
    with pytest.raises(ChecksumError, match="sha256 checksum mismatch.*expected 0000"):
        download_file((folder / "data.bin").as_uri(), "data.bin", wrong, tmp_path / "c")
    assert list((tmp_path / "c").iterdir()) == []  # no partial or corrupt file kept


def test_falls_back_to_the_next_mirror_and_accepts_md5(tmp_path, source):
    folder, _ = source
    md5 = hashlib.md5((folder / "data.bin").read_bytes()).hexdigest()
    urls = [(folder / "missing.bin").as_uri(), (folder / "data.bin").as_uri()]
    path = download_file(urls, "data.bin", md5, root=tmp_path / "c")
    assert file_digest(path, "md5") == md5


def test_unreachable_mirrors_raise_oserror_listing_them(tmp_path):
    url = (tmp_path / "nowhere.bin").as_uri()
    with pytest.raises(OSError, match=r"(?s)could not fetch x.bin.*nowhere.bin"):
        download_file(url, "x.bin", None, root=tmp_path / "c")


def test_corrupt_cached_file_is_downloaded_again(tmp_path, source):
    folder, sha256 = source
    cache = tmp_path / "c"
    cache.mkdir()
    (cache / "data.bin").write_bytes(b"truncated")
    path = download_file((folder / "data.bin").as_uri(), "data.bin", sha256, cache)
    assert file_digest(path) == sha256


def test_bad_checksum_format_is_rejected(tmp_path, source):
    folder, _ = source
    with pytest.raises(ValueError, match="md5 .*or sha256"):
        download_file((folder / "data.bin").as_uri(), "d", "abc", tmp_path / "c")


def test_mnist_download_path(tmp_path, monkeypatch):
    server = tmp_path / "server"
    server.mkdir()
    make_mnist_folder(server)
    # Serve gzipped labels too, as the real mirrors do.
    for prefix in ("train", "t10k"):
        raw = server / f"{prefix}-labels-idx1-ubyte"
        gz = server / f"{prefix}-labels-idx1-ubyte.gz"
        gz.write_bytes(gzip.compress(raw.read_bytes()))
    files = {
        part: (name, file_digest(server / name, "md5"))
        for part, (name, _) in handwritten_module.MNIST_FILES.items()
    }
    monkeypatch.setattr(handwritten_module, "MNIST_FILES", files)
    mirrors = ((tmp_path / "dead").as_uri() + "/", server.as_uri() + "/")
    monkeypatch.setattr(handwritten_module, "MNIST_MIRRORS", mirrors)
    splits = mnist(tmp_path / "cache", download=True)
    assert len(splits.test) == 20
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == sorted(
        name for name, _ in files.values()
    )


def test_cifar10_download_checks_and_unpacks_the_archive(tmp_path, monkeypatch):
    make_cifar_folder(tmp_path / "build" / "cifar-10-batches-py")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(tmp_path / "build" / "cifar-10-batches-py", "cifar-10-batches-py")
    archive = tmp_path / "cifar-10-python.tar.gz"
    archive.write_bytes(buffer.getvalue())
    monkeypatch.setattr(cifar_module, "CIFAR10_URL", archive.as_uri())
    monkeypatch.setattr(cifar_module, "CIFAR10_MD5", file_digest(archive, "md5"))
    splits = cifar10(tmp_path / "cache", download=True, val_fraction=0.2)
    assert len(splits.train) == 40

    monkeypatch.setattr(cifar_module, "CIFAR10_MD5", "f" * 32)
    with pytest.raises(ChecksumError, match="md5 checksum mismatch"):
        cifar10(tmp_path / "other", download=True)
