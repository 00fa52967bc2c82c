"""Read a learning platform's zip of submissions and take out only safe notebooks.

The zip is read entry by entry and nothing is extracted but the notebooks to collect:
no other file, no nested archive, nothing outside the zip's own folder, no link, no
setuid, setgid or world-writable mode; each entry's size and compression ratio, and the
total, are checked before anything is written. Every entry left out is reported with
its reason. A duplicate entry, or a name that claims to be UTF-8 and is not, costs only
that entry. Three layouts are understood, as the platforms write them:

* Moodle: ``<name>_<id>_assignsubmission_file_/<file>`` (or without the folder), the
  student id is Moodle's participant id;
* Canvas: ``<name>_[LATE_]<user id>_<submission id>_<file>``, the student id is Canvas's
  user id, and ``LATE`` is kept;
* any other: ``FileNameCollectorPlugin.named_regexp`` of the course's nbgrader
  configuration, with ``student_id`` and ``file_id`` groups (and optionally
  ``timestamp``), matched as nbgrader does against the path the entry would have once
  extracted.
"""

import re
import shutil
import stat
import struct
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MB = 1_000_000
MAX_ENTRY = 50 * MB  # one notebook: the course's largest submissions are under 5 MB
MAX_TOTAL = 500 * MB  # the whole collection
MAX_RATIO = 100  # uncompressed / compressed; notebooks compress 2 to 10 times
RATIO_FROM = 1 * MB  # entries smaller than this cannot hurt, whatever their ratio
ARCHIVES = (".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".jar", ".whl")
UTF8_FLAG = 0x800
LAYOUTS = {
    "Moodle": re.compile(r"^(?:.*/)?(?P<name>[^/]*?)_(?P<student_id>\d+)_assignsubmission_"
                         r"[a-z]+_/?(?P<file_id>[^/]+)$"),
    "Canvas": re.compile(r"^(?:.*/)?(?P<name>[^/]*?)_(?P<late>LATE_)?(?P<student_id>\d+)_"
                         r"\d+_(?P<file_id>[^/]+)$"),
}


class RefusedZip(Exception):
    """The whole zip is refused (too large, not a zip): nothing was written."""


@dataclass
class Take:
    """An entry to collect: where it goes and what its name says."""

    info: zipfile.ZipInfo
    student: str
    file: str  # the file name in submitted/<student>/<assignment>/
    late: bool = False
    timestamp: str | None = None  # from the pattern's ``timestamp`` group, ISO format
    name: str = ""  # the student's name, when the layout has one


@dataclass
class Plan:
    """What collecting a zip does: the entries to take, those skipped and why."""

    layout: str
    takes: list[Take] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (entry name, reason)


def shown(name: str) -> str:
    """An entry name as printed: escaped when it holds line breaks or other controls."""
    return name if name.isprintable() else repr(name)


def _clear_bad_utf8_flags(path: Path) -> set[str]:
    """Clear, in the central directory of the zip at ``path``, the UTF-8 flag of every
    name that is not UTF-8, so that the zip opens; return those names as CP437 reads them."""
    size = path.stat().st_size
    with open(path, "r+b") as zf:
        zf.seek(max(0, size - (1 << 16) - 22))
        tail = zf.read()
        at = tail.rfind(b"PK\x05\x06")
        if at < 0:
            raise RefusedZip("it has no end of central directory")
        _, _, _, _, count, cd_size, cd_offset, _ = struct.unpack("<4s4H2LH", tail[at:at + 22])
        if 0xFFFFFFFF in (cd_size, cd_offset) or count == 0xFFFF:
            raise RefusedZip("it is a ZIP64 archive with names that are not UTF-8")
        start = size - len(tail) + at - cd_size  # where the central directory begins
        zf.seek(start)
        directory = zf.read(cd_size)
        pos, cleared = 0, set()
        while directory[pos:pos + 4] == b"PK\x01\x02":
            flags, = struct.unpack_from("<H", directory, pos + 8)
            name_len, extra_len, comment_len = struct.unpack_from("<3H", directory, pos + 28)
            raw = directory[pos + 46:pos + 46 + name_len]
            if flags & UTF8_FLAG and not _decodes(raw):
                zf.seek(start + pos + 8)
                zf.write(struct.pack("<H", flags & ~UTF8_FLAG))
                cleared.add(raw.decode("cp437"))
            pos += 46 + name_len + extra_len + comment_len
    return cleared


@contextmanager
def open_zip(archive: Path):
    """``(ZipFile, names that claim UTF-8 but are not)`` for ``archive``, which may have such
    names (a copy of it is then read, with those names as CP437)."""
    try:
        plain = zipfile.ZipFile(archive)
    except UnicodeDecodeError:
        plain = None
    except zipfile.BadZipFile as error:
        raise RefusedZip(str(error)) from None
    if plain is not None:
        with plain:
            yield plain, set()
        return
    with tempfile.TemporaryDirectory(prefix="reglab-zip-") as tmp:
        copy = Path(tmp) / "archive.zip"
        shutil.copyfile(archive, copy)
        bad = _clear_bad_utf8_flags(copy)
        with zipfile.ZipFile(copy) as zf:
            yield zf, bad


def _decodes(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _mode_problem(info: zipfile.ZipInfo) -> str | None:
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if kind == stat.S_IFLNK:
        return "a symbolic link"
    if kind not in (0, stat.S_IFREG):
        return "not a regular file"
    bad = [label for bit, label in ((stat.S_ISUID, "setuid"), (stat.S_ISGID, "setgid"),
                                    (stat.S_ISVTX, "sticky"), (stat.S_IWOTH, "world-writable"))
           if mode & bit]
    return f"mode {stat.S_IMODE(mode):o} ({', '.join(bad)})" if bad else None


def _name_problem(info: zipfile.ZipInfo, path: str, bad_names: set[str]) -> str | None:
    """Why an entry's name or mode rules it out (None when they do not)."""
    parts = PurePosixPath(path).parts
    if not parts:
        return "an entry without a name"
    if info.filename in bad_names:
        return "its name is marked UTF-8 but is not UTF-8"
    if path.startswith("/") or re.match(r"[A-Za-z]:", path):
        return "an absolute path"
    if ".." in parts:
        return "a path out of the zip's folder (../)"
    return _mode_problem(info)


def _kind_problem(info: zipfile.ZipInfo, path: str) -> str | None:
    """Why an entry is no notebook to collect, or one too large (None when it is one)."""
    parts = PurePosixPath(path).parts
    if info.flag_bits & 0x1:
        return "encrypted"
    if "__MACOSX" in parts or parts[-1].startswith("._"):
        return "macOS metadata"
    suffix = PurePosixPath(path).suffix.lower()
    if suffix in ARCHIVES:
        return f"an archive inside the zip ({suffix}): not extracted"
    if suffix != ".ipynb":
        return f"not a notebook ({suffix or 'no extension'})"
    if info.file_size > MAX_ENTRY:
        return f"{info.file_size / MB:.0f} MB uncompressed, more than {MAX_ENTRY // MB} MB"
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size >= RATIO_FROM and ratio > MAX_RATIO:
        return f"compressed {ratio:.0f} times, more than {MAX_RATIO} (a zip bomb?)"
    return None


def _problem(info: zipfile.ZipInfo, path: str, bad_names: set[str]) -> str | None:
    """Why an entry is not a candidate notebook (None when it is one)."""
    return _name_problem(info, path, bad_names) or _kind_problem(info, path)


def _timestamp(text: str | None) -> str | None:
    """A timestamp as nbgrader writes it into timestamp.txt; ValueError if it is none."""
    if not text:
        return None
    from nbgrader.utils import parse_utc

    return parse_utc(text).isoformat(" ")


def plan(zf: zipfile.ZipFile, bad_names: set[str], pattern: str | None, extracted: str,
         safe_id: Callable[[str], bool]) -> Plan:
    """Decide, before writing anything, which entries of ``zf`` to collect and where.

    ``pattern`` is the course's FileNameCollectorPlugin.named_regexp, matched against
    ``extracted``/<entry> as nbgrader would; ``safe_id`` says which student ids to accept.
    Raises RefusedZip when the whole zip must be refused.
    """
    files = [i for i in zf.infolist() if not i.is_dir()]
    counts = Counter(i.filename for i in files)
    skipped, candidates = [], []
    for info in files:
        path = info.filename.replace("\\", "/")
        why = (f"appears {counts[info.filename]} times in the zip" if counts[info.filename] > 1
               else _problem(info, path, bad_names))
        if why:
            skipped.append((info.filename, why))
        else:
            candidates.append((info, path))
    layout = next((name for name, regex in LAYOUTS.items()
                   if candidates and all(regex.match(p) for _, p in candidates)), "pattern")
    if layout == "pattern" and candidates and not pattern:
        raise RefusedZip("its names are neither Moodle's nor Canvas's, and nbgrader_config.py "
                         "sets no c.FileNameCollectorPlugin.named_regexp to read them")
    try:
        regex = LAYOUTS.get(layout) or re.compile(pattern or "$^")
    except re.error as error:
        raise RefusedZip(f"FileNameCollectorPlugin.named_regexp is no regular expression "
                         f"({error})") from None
    result = Plan(layout, skipped=skipped)
    for info, path in candidates:
        found = regex.match(path if layout in LAYOUTS else f"{extracted}/{path}")
        take = _take(info, path, found.groupdict() if found else {}, safe_id)
        if isinstance(take, str):
            skipped.append((info.filename, take))
        else:
            result.takes.append(take)
    result.takes = _one_per_file(result.takes, skipped)
    total = sum(t.info.file_size for t in result.takes)
    if total > MAX_TOTAL:
        raise RefusedZip(f"its notebooks hold {total / MB:.0f} MB uncompressed, more than "
                         f"{MAX_TOTAL // MB} MB")
    return result


def _take(info: zipfile.ZipInfo, path: str, groups: dict, safe_id: Callable[[str], bool]
          ) -> Take | str:
    """The entry to collect that the name's ``groups`` describe, or why it is skipped."""
    if not groups.get("student_id"):
        return ("the name does not match the pattern (FileNameCollectorPlugin.named_regexp "
                "in nbgrader_config.py)")
    if not safe_id(groups["student_id"]):
        return f"not a safe student id: {shown(groups['student_id'])}"
    try:
        stamp = _timestamp(groups.get("timestamp"))
    except (ValueError, OverflowError):
        return f"its timestamp ({shown(groups['timestamp'])}) is not a date"
    file = PurePosixPath(groups.get("file_id") or path).name
    file += "" if file.endswith(".ipynb") else ".ipynb"
    return Take(info, groups["student_id"], file, bool(groups.get("late")), stamp,
                groups.get("name") or "")


def _one_per_file(takes: list[Take], skipped: list[tuple[str, str]]) -> list[Take]:
    """Entries that give the same student's same file: the newest when the names carry
    timestamps, else none of them (each reported)."""
    groups: dict[tuple[str, str], list[Take]] = {}
    for take in takes:
        groups.setdefault((take.student, take.file), []).append(take)
    kept = []
    for (student, file), same in groups.items():
        if len(same) == 1:
            kept.append(same[0])
        elif all(t.timestamp for t in same):
            newest = max(same, key=lambda t: t.timestamp)
            kept.append(newest)
            skipped += [(t.info.filename, f"an older {file} of {student} than "
                         f"{shown(newest.info.filename)}") for t in same if t is not newest]
        else:
            skipped += [(t.info.filename, f"{len(same)} entries give {student}'s {file}")
                        for t in same]
    return kept


def extract(zf: zipfile.ZipFile, take: Take, target: Path) -> None:
    """Write one entry to ``target`` (a new file, mode 0644, never through a link), reading
    no more than its declared size."""
    with zf.open(take.info) as source, open(target, "xb") as out:
        left = take.info.file_size
        while chunk := source.read(min(1 << 20, left + 1)):
            left -= len(chunk)
            if left < 0:
                raise zipfile.BadZipFile("more data than its declared size")
            out.write(chunk)
    target.chmod(0o644)
