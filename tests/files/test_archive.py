from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import pytest
from samplefiles import docx_bytes, unicode_path_extra, zip_bytes, zip_with_raw_names

from evalplat.files.archive import ZipLimits, open_zip
from evalplat.files.errors import FileRejected


def _codes(listing) -> dict[str, str]:
    return {error.filename: error.code for error in listing.rejected}


def test_entries_are_grouped_by_case_folder_with_chinese_names() -> None:
    blob = zip_bytes(
        [
            ("（2024）粤法援123号/起诉状.pdf", b"%PDF-a"),
            ("（2024）粤法援123号/证据/照片.png", b"png"),
            ("2024-0456/结案报告.docx", b"docx"),
            ("2024-0456/", b""),
        ]
    )
    with open_zip(blob, archive_name="案件.zip") as archive:
        groups = archive.listing.by_case()
        assert list(groups) == ["（2024）粤法援123号", "2024-0456"]
        first = groups["（2024）粤法援123号"]
        assert [e.display_name for e in first] == ["起诉状.pdf", "照片.png"]
        assert first[1].relative_path == "证据/照片.png"
        assert archive.read(first[0]) == b"%PDF-a"
        assert archive.listing.rejected == []


def test_path_traversal_entries_are_rejected_and_the_rest_proceeds() -> None:
    blob = zip_bytes(
        [
            ("../../etc/passwd", b"root:x:0:0"),
            ("case1/../../escape.txt", b"x"),
            ("/etc/shadow", b"x"),
            ("C:/Windows/win.ini", b"x"),
            ("case1\\..\\..\\evil.txt", b"x"),
            ("case1/ok.txt", b"fine"),
        ]
    )
    with open_zip(blob, archive_name="cases.zip") as archive:
        codes = _codes(archive.listing)
        assert codes == {
            "../../etc/passwd": "zip_path_traversal",
            "case1/../../escape.txt": "zip_path_traversal",
            "/etc/shadow": "zip_path_traversal",
            "C:/Windows/win.ini": "zip_path_traversal",
            "case1/../../evil.txt": "zip_path_traversal",
        }
        reasons = {e.filename: e.params["reason"] for e in archive.listing.rejected}
        assert reasons["/etc/shadow"] == "absolute_path"
        assert reasons["C:/Windows/win.ini"] == "drive_letter"
        assert [e.path for e in archive.listing.entries] == ["case1/ok.txt"]
        passwd = next(e for e in archive.listing.rejected if e.filename == "../../etc/passwd")
        assert "../../etc/passwd" in passwd.message("zh")


def test_symbolic_links_are_rejected() -> None:
    link = zipfile.ZipInfo("case1/link")
    link.create_system = 3
    link.external_attr = 0o120777 << 16
    blob = zip_bytes([(link, b"/etc/passwd"), ("case1/a.txt", b"a")])
    with open_zip(blob) as archive:
        assert _codes(archive.listing) == {"case1/link": "zip_symlink"}


def test_nested_archives_are_refused_by_name_and_by_content() -> None:
    inner = zip_bytes([("x.txt", b"x")])
    blob = zip_bytes(
        [("case1/inner.zip", inner), ("case1/renamed.pdf", inner), ("case1/判决.docx", docx_bytes(["判决"]))]
    )
    with open_zip(blob) as archive:
        assert _codes(archive.listing) == {"case1/inner.zip": "zip_nested"}
        entries = {e.display_name: e for e in archive.listing.entries}
        with pytest.raises(FileRejected) as err:
            archive.read(entries["renamed.pdf"])
        assert (err.value.code, err.value.filename) == ("zip_nested", "case1/renamed.pdf")
        assert archive.read(entries["判决.docx"]).startswith(b"PK")  # a .docx is a zip, and allowed
        results = dict((e.display_name, r) for e, r in archive.iter_files())
        assert isinstance(results["renamed.pdf"], FileRejected)
        assert isinstance(results["判决.docx"], bytes)


def test_decompression_bomb_entry_is_rejected_by_ratio() -> None:
    bomb = b"\x00" * (20 * 1024 * 1024)
    blob = zip_bytes([("case1/bomb.txt", bomb), ("case1/ok.txt", b"ok")])
    assert len(blob) < 100_000
    with open_zip(blob) as archive:
        error = archive.listing.rejected[0]
        assert (error.code, error.filename) == ("zip_bomb", "case1/bomb.txt")
        assert error.params["ratio"] > 100
        assert [e.display_name for e in archive.listing.entries] == ["ok.txt"]


def test_archive_over_the_total_size_or_entry_count_is_refused_whole() -> None:
    blob = zip_bytes([(f"case{i}/f.txt", b"x" * 1000) for i in range(20)])
    with pytest.raises(FileRejected) as err:
        open_zip(blob, archive_name="big.zip", limits=ZipLimits(max_total_bytes=10_000))
    assert (err.value.code, err.value.filename) == ("zip_too_large", "big.zip")
    with pytest.raises(FileRejected) as err:
        open_zip(blob, archive_name="many.zip", limits=ZipLimits(max_entries=10))
    assert (err.value.code, err.value.params["count"]) == ("zip_too_many_entries", 20)


def test_entry_over_the_per_file_limit_is_rejected() -> None:
    blob = zip_bytes([("case1/big.bin", b"abc" * 10_000), ("case1/small.txt", b"s")])
    with open_zip(blob, limits=ZipLimits(max_entry_bytes=1000)) as archive:
        assert _codes(archive.listing) == {"case1/big.bin": "zip_entry_too_large"}


def test_overlapping_entries_are_refused() -> None:
    blob = bytearray(zip_bytes([("case1/a.txt", b"a" * 5000), ("case1/b.txt", b"b" * 5000)]))
    # point the second central-directory record at the first local header (the "zbsm" bomb trick)
    second = blob.rfind(b"PK\x01\x02")
    struct.pack_into("<I", blob, second + 42, 0)
    with pytest.raises(FileRejected) as err:
        open_zip(bytes(blob), archive_name="overlap.zip")
    assert err.value.code == "zip_corrupt"


def test_gbk_names_without_the_utf8_flag_are_decoded() -> None:
    names = {
        "folder": "（2023）粤0106法援字第0178号/委托书.pdf".encode("gbk"),
        "other": "案件二/结案报告.txt".encode("gbk"),
    }
    blob = zip_with_raw_names(names)
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:  # prove the archive really lacks the flag
        assert all(not info.flag_bits & 0x800 for info in zf.infolist())
        assert "委托书" not in zf.namelist()[0]
    with open_zip(blob) as archive:
        paths = [e.path for e in archive.listing.entries]
        assert paths == ["（2023）粤0106法援字第0178号/委托书.pdf", "案件二/结案报告.txt"]
        assert list(archive.listing.by_case()) == ["（2023）粤0106法援字第0178号", "案件二"]


def test_unicode_path_extra_field_wins_over_the_raw_name() -> None:
    raw = b"case7/____.pdf"
    info = zipfile.ZipInfo(raw.decode("ascii"))
    info.extra = unicode_path_extra("case7/判决书.pdf", raw)
    with open_zip(zip_bytes([(info, b"%PDF")])) as archive:
        assert [e.display_name for e in archive.listing.entries] == ["判决书.pdf"]


def test_files_outside_a_case_folder_junk_and_corrupt_archives() -> None:
    blob = zip_bytes(
        [
            ("readme.txt", b"x"),
            ("__MACOSX/case1/._a.pdf", b"x"),
            ("case1/.DS_Store", b"x"),
            ("case1/a.pdf", b"%PDF"),
        ]
    )
    with open_zip(blob) as archive:
        assert _codes(archive.listing) == {"readme.txt": "zip_no_case_folder"}
        assert archive.listing.skipped == ["__MACOSX/case1/._a.pdf", "case1/.DS_Store"]
        assert [e.path for e in archive.listing.entries] == ["case1/a.pdf"]
    with pytest.raises(FileRejected) as err:
        open_zip(b"PK\x03\x04 not really a zip", archive_name="坏.zip")
    assert (err.value.code, err.value.filename) == ("zip_corrupt", "坏.zip")


def test_open_zip_from_a_path_uses_its_name(tmp_path: Path) -> None:
    path = tmp_path / "上传.zip"
    path.write_bytes(zip_bytes([("root.txt", b"x")]))
    with open_zip(path) as archive:
        assert archive.listing.archive_name == "上传.zip"
        assert archive.listing.rejected[0].code == "zip_no_case_folder"
