"""Collecting a learning platform's zip (reglab.grader.collect_zip, reglab/collect.py).

Each hostile or broken entry is left out with its reason while the honest students of
the same zip are collected; nothing is written outside submitted/, no mode of the zip
is kept, no nested archive is opened. Moodle's and Canvas's downloads are read as they
come. No kernel runs: these are fast.
"""

import json
import os
import re
import shutil
import stat
import struct
import warnings
import zipfile
from pathlib import Path

import pytest

from reglab import collect, grader
from reglab.course import ROOT

A = "01_bias_variance"
NOTEBOOK = json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
MB = collect.MB


@pytest.fixture
def course(tmp_path) -> Path:
    course = tmp_path / "course"
    shutil.copytree(ROOT / "solutions" / A, course / "solutions" / A)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    return course


def _entry(name: str, mode: int = 0o100644) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(2026, 3, 1, 12, 0, 0))
    info.external_attr = mode << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _zip(path: Path, entries: dict[str, bytes | str], modes: dict[str, int] | None = None
         ) -> Path:
    """A zip of ``entries`` (name: content), in that order, duplicates allowed as name#N."""
    modes = modes or {}
    with warnings.catch_warnings(), zipfile.ZipFile(path, "w") as zipped:
        warnings.simplefilter("ignore")  # "Duplicate name": on purpose
        for name, content in entries.items():
            name = name.split("#")[0]
            zipped.writestr(_entry(name, modes.get(name, 0o100644)), content)
    return path


def _collect(course: Path, archive: Path) -> tuple[dict, list[str]]:
    lines: list[str] = []
    collected = grader.collect_zip(A, archive, course, echo=lines.append)
    return collected, lines


def _skipped(lines: list[str]) -> dict[str, str]:
    return dict(line.removeprefix("  skipped ").split(": ", 1) for line in lines
                if line.startswith("  skipped "))


def _files(course: Path) -> list[str]:
    """Every file under the course's parent folder except the course's sources."""
    return sorted(str(p.relative_to(course.parent)) for p in course.parent.rglob("*")
                  if p.is_file() and "solutions" not in p.parts
                  and p.name not in ("nbgrader_config.py", "download.zip"))


HONEST = {"alice_01_bias_variance.ipynb": NOTEBOOK, "bob_Copy of 01_bias_variance.ipynb": NOTEBOOK}


def test_hostile_entries_are_skipped_with_a_reason_and_honest_ones_collected(course):
    inner = _zip(course.parent / "inner.zip", {"carol_01_bias_variance.ipynb": NOTEBOOK})
    entries = {
        **HONEST,
        "../evil_01_bias_variance.ipynb": NOTEBOOK,
        "sub/../../evil2_01_bias_variance.ipynb": NOTEBOOK,
        "..\\evil3_01_bias_variance.ipynb": NOTEBOOK,
        "/tmp/evil4_01_bias_variance.ipynb": NOTEBOOK,
        "C:\\evil5_01_bias_variance.ipynb": NOTEBOOK,
        "suid_01_bias_variance.ipynb": NOTEBOOK,
        "link_01_bias_variance.ipynb": "/etc/passwd",
        "nested_01_bias_variance.zip": inner.read_bytes(),
        "dave_01_bias_variance.ipynb#1": NOTEBOOK,
        "dave_01_bias_variance.ipynb#2": NOTEBOOK,
        "readme.txt": "exported by the learning platform",
        "__MACOSX/._alice_01_bias_variance.ipynb": "resource fork",
        "no-underscore.ipynb": NOTEBOOK,
        "*_01_bias_variance.ipynb": NOTEBOOK,
    }
    modes = {"suid_01_bias_variance.ipynb": 0o106777, "link_01_bias_variance.ipynb": 0o120777}
    collected, lines = _collect(course, _zip(course.parent / "download.zip", entries, modes))
    skipped = _skipped(lines)
    expected = {
        "../evil_01_bias_variance.ipynb": "a path out of the zip's folder (../)",
        "sub/../../evil2_01_bias_variance.ipynb": "a path out of the zip's folder (../)",
        "..\\evil3_01_bias_variance.ipynb": "a path out of the zip's folder (../)",
        "/tmp/evil4_01_bias_variance.ipynb": "an absolute path",
        "C:\\evil5_01_bias_variance.ipynb": "an absolute path",
        "suid_01_bias_variance.ipynb": "mode 6777 (setuid, setgid, world-writable)",
        "link_01_bias_variance.ipynb": "a symbolic link",
        "nested_01_bias_variance.zip": "an archive inside the zip (.zip): not extracted",
        "dave_01_bias_variance.ipynb": "appears 2 times in the zip",
        "readme.txt": "not a notebook (.txt)",
        "__MACOSX/._alice_01_bias_variance.ipynb": "macOS metadata",
        "no-underscore.ipynb": "the name does not match the pattern",
        "*_01_bias_variance.ipynb": "the name does not match the pattern",
    }
    assert set(skipped) == set(expected), lines
    for name, reason in expected.items():
        assert skipped[name].startswith(reason), (name, skipped[name])
    assert set(collected) == {"alice", "bob"}
    assert collected["bob"] == [f"moved {A}/Copy of {A}.ipynb to {A}/{A}.ipynb"]
    assert _files(course) == sorted([
        "inner.zip", f"course/{grader.WORK}/{A}/collected.json",
        f"course/submitted/alice/{A}/{A}.ipynb", f"course/submitted/bob/{A}/{A}.ipynb"])
    for student in ("alice", "bob"):
        mode = (course / "submitted" / student / A / f"{A}.ipynb").stat().st_mode
        assert stat.S_IMODE(mode) == 0o644
    assert lines[-1] == (f"==> Collected 2 submission(s) of {A} into submitted/; "
                         f"{len(entries) - 2} entries skipped")


def test_a_zip_bomb_is_refused_before_anything_is_written(course, monkeypatch):
    entries = {**HONEST, "big_01_bias_variance.ipynb": bytes(60 * MB),
               "dense_01_bias_variance.ipynb": bytes(10 * MB),
               "small_01_bias_variance.ipynb": bytes(200_000)}  # compresses 200x, but small
    archive = _zip(course.parent / "download.zip", entries)
    assert archive.stat().st_size < 200_000
    collected, lines = _collect(course, archive)
    skipped = _skipped(lines)
    assert set(skipped) == {"big_01_bias_variance.ipynb", "dense_01_bias_variance.ipynb"}, lines
    assert skipped["big_01_bias_variance.ipynb"] == "60 MB uncompressed, more than 50 MB"
    assert re.fullmatch(r"compressed \d+ times, more than 100 \(a zip bomb\?\)",
                        skipped["dense_01_bias_variance.ipynb"])
    assert set(collected) == {"alice", "bob", "small"}
    monkeypatch.setattr(collect, "MAX_TOTAL", MB // 10)  # the three left hold 0.2 MB
    shutil.rmtree(course / "submitted")
    with pytest.raises(grader.GradingError, match="refused, nothing collected: its notebooks "
                       "hold 0 MB uncompressed, more than 0 MB"):
        _collect(course, archive)
    assert not (course / "submitted").exists()


def test_a_zip_that_lies_about_a_size_writes_no_more_than_it_says(course):
    archive = _zip(course.parent / "download.zip",
                   {**HONEST, "liar_01_bias_variance.ipynb": bytes(5 * MB)})
    data = bytearray(archive.read_bytes())
    name = b"liar_01_bias_variance.ipynb"
    for signature, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        header = data.rfind(signature, 0, data.find(name, data.find(signature)))
        struct.pack_into("<L", data, header + size_at, 1000)  # claims 1000 bytes
    archive.write_bytes(bytes(data))
    collected, lines = _collect(course, archive)
    assert _skipped(lines)["liar_01_bias_variance.ipynb"].startswith("cannot be read"), lines
    assert set(collected) == {"alice", "bob"} and not (course / "submitted" / "liar").exists()


def _with_bad_utf8_name(archive: Path, placeholder: bytes, raw: bytes) -> None:
    """Give the entry named ``placeholder`` the bytes ``raw`` (not UTF-8) as its name, with
    the UTF-8 flag set in its local and central headers."""
    data = bytearray(archive.read_bytes())
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(placeholder, data.find(signature))
        header = data.rfind(signature, 0, at)
        flags, = struct.unpack_from("<H", data, header + flags_at)
        struct.pack_into("<H", data, header + flags_at, flags | collect.UTF8_FLAG)
        data[at:at + len(placeholder)] = raw
    archive.write_bytes(bytes(data))


def test_a_name_flagged_utf8_that_is_not_costs_only_that_entry(course):
    archive = _zip(course.parent / "download.zip",
                   {**HONEST, "eveXX_01_bias_variance.ipynb": NOTEBOOK})
    _with_bad_utf8_name(archive, b"eveXX", b"eve\xff\xfe")
    with pytest.raises(UnicodeDecodeError):
        zipfile.ZipFile(archive)  # what stopped the whole collection
    collected, lines = _collect(course, archive)
    assert set(collected) == {"alice", "bob"}
    [(name, reason)] = _skipped(lines).items()
    assert name.startswith("'eve") and reason == "its name is marked UTF-8 but is not UTF-8"


def test_moodle_download_is_read_as_it_comes(course):
    entries = {
        f"Jane Doe_123456_assignsubmission_file_/{A}.ipynb": NOTEBOOK,
        f"Zoë Ngô_234567_assignsubmission_file_/Copy of {A}.ipynb": NOTEBOOK,
        "Jane Doe_123456_assignsubmission_onlinetext_/onlinetext.html": "<p>see the notebook</p>",
        f"Li Wei_345678_assignsubmission_file_{A}.ipynb": NOTEBOOK,  # "without folders"
    }
    collected, lines = _collect(course, _zip(course.parent / "download.zip", entries))
    assert "Moodle's layout" in lines[0]
    assert set(collected) == {"123456", "234567", "345678"}
    assert collected["234567"] == [f"moved {A}/Copy of {A}.ipynb to {A}/{A}.ipynb"]
    assert any(line.startswith("  234567 (Zoë Ngô)") for line in lines), lines
    assert _skipped(lines) == {"Jane Doe_123456_assignsubmission_onlinetext_/onlinetext.html":
                               "not a notebook (.html)"}


def test_canvas_download_keeps_late_submissions_marked(course):
    entries = {f"doejane_LATE_12345_67890_{A}.ipynb": NOTEBOOK,
               f"smithann_23456_78901_{A}-1.ipynb": NOTEBOOK}
    collected, lines = _collect(course, _zip(course.parent / "download.zip", entries))
    assert "Canvas's layout" in lines[0]
    assert collected == {"12345": ["LATE (the platform's file name says so)"],
                         "23456": [f"moved {A}/{A}-1.ipynb to {A}/{A}.ipynb"]}
    saved = json.loads((course / grader.WORK / A / "collected.json").read_text())
    assert saved["12345"]["late"] and not saved["23456"]["late"]
    assert saved["12345"] == {"entries": [f"doejane_LATE_12345_67890_{A}.ipynb"], "late": True,
                              "layout": "Canvas", "name": "doejane"}


def test_timestamps_in_names_are_kept_and_the_newest_copy_wins(course):
    config = course / "nbgrader_config.py"
    config.write_text(config.read_text() + "\nc.FileNameCollectorPlugin.named_regexp = (\n"
                      "    r'.*/(?P<student_id>[a-z]+)_(?P<timestamp>[^_]+)_"
                      "(?P<file_id>[^/]*)\\.ipynb$')\n")
    entries = {f"alice_2026-03-01T10:00:00_{A}.ipynb": NOTEBOOK,
               f"alice_2026-03-02T09:30:00_{A}.ipynb": NOTEBOOK.replace("{}", '{"v": 2}'),
               f"bob_yesterday_{A}.ipynb": NOTEBOOK}
    collected, lines = _collect(course, _zip(course.parent / "download.zip", entries))
    assert set(collected) == {"alice"}
    folder = course / "submitted" / "alice" / A
    assert (folder / "timestamp.txt").read_text() == "2026-03-02 09:30:00"
    assert '"v": 2' in (folder / f"{A}.ipynb").read_text()
    skipped = _skipped(lines)
    assert skipped[f"alice_2026-03-01T10:00:00_{A}.ipynb"].startswith(f"an older {A}.ipynb")
    assert skipped[f"bob_yesterday_{A}.ipynb"] == "its timestamp (yesterday) is not a date"


def test_collecting_again_replaces_the_folder_and_never_follows_a_link(course, tmp_path):
    archive = _zip(course.parent / "download.zip", HONEST)
    _collect(course, archive)
    (course / "submitted" / "alice" / A / "old.txt").write_text("from the first collection")
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.rmtree(course / "submitted" / "bob" / A)
    os.symlink(outside, course / "submitted" / "bob" / A)
    collected, lines = _collect(course, archive)
    assert set(collected) == {"alice"}
    assert not (course / "submitted" / "alice" / A / "old.txt").exists()
    assert _skipped(lines)["bob_Copy of 01_bias_variance.ipynb"] == \
        f"submitted/bob/{A} is a link: not replaced"
    assert not list(outside.iterdir())


def test_what_is_not_a_zip_is_refused(course):
    text = course.parent / "download.zip"
    text.write_text("not a zip")
    with pytest.raises(grader.GradingError, match="refused, nothing collected: File is not a "
                       "zip file"):
        _collect(course, text)
