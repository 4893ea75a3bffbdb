"""The archive: files under the home (one machine), or the journal's database
(PostgreSQL, shared by daemons on several machines); a missing scan is an error,
never a forward without it."""

from __future__ import annotations

import stat

import pytest
from sqlmodel import Session, select

from mailflow import daemon, db, scans
from mailflow.archive import DatabaseArchive, FileArchive, NotArchived, digest
from mailflow.models import ArchiveBlob, DocAttachment, Document
from tests.support import Office, database_urls, home_config

SCAN = b"%PDF-1.4 scan"


@pytest.fixture(params=["files", "sqlite", "postgresql"])
def archive(request, tmp_path):
    if request.param == "files":
        yield FileArchive(tmp_path / "archive")
        return
    (tmp_path / "home").mkdir()
    with database_urls(tmp_path, request.param) as url:
        engine = db.make_engine(url)
        db.migrate(engine)
        yield DatabaseArchive(engine)
        engine.dispose()


def test_bytes_come_back_as_they_went_in_under_their_sha256(archive):
    raw = b"From: a@example.kz\r\n\r\n\xd0\x96\xd0\xb0\xd0\xbb\xd0\xbe\xd0\xb1\xd0\xb0\r\n" + bytes(
        range(256)
    )
    sha = archive.put(raw)
    assert sha == digest(raw) and len(sha) == 64
    assert archive.get(sha) == raw
    assert archive.put(raw) == sha  # write-once: the same bytes again change nothing
    shas = archive.put_all([SCAN, b"second", SCAN], suffix=".bin")  # a message's parts, in one go
    assert shas == [digest(SCAN), digest(b"second"), digest(SCAN)]
    assert archive.get(digest(b"second"), ".bin") == b"second"
    assert archive.put_all([]) == []


def test_what_is_not_there_is_a_clear_error(archive):
    with pytest.raises(NotArchived, match="0{64}"):
        archive.get("0" * 64, ".bin")
    with pytest.raises(FileNotFoundError):  # what callers that show a missing file catch
        archive.get("f" * 64)


def test_files_are_owner_only_and_never_rewritten(tmp_path):
    a = FileArchive(tmp_path / "archive")
    sha = a.put(SCAN, ".bin")
    path = a.local_path(sha, ".bin")
    assert path is not None and path.read_bytes() == SCAN
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    before = path.stat().st_mtime_ns
    a.put(SCAN, ".bin")
    assert path.stat().st_mtime_ns == before


def test_the_database_keeps_one_row_per_content(tmp_path):
    (tmp_path / "home").mkdir()
    with database_urls(tmp_path, "postgresql") as url:
        engine = db.make_engine(url)
        db.migrate(engine)
        a, b = DatabaseArchive(engine), DatabaseArchive(engine)  # two daemons
        assert a.local_path(a.put(SCAN)) is None
        assert b.get(digest(SCAN)) == SCAN  # archived by one, read by the other
        b.put(SCAN, ".bin")
        with Session(engine) as s:
            [row] = s.exec(select(ArchiveBlob)).all()
            assert row.size == len(SCAN) and row.sha256 == digest(SCAN)
        engine.dispose()


def test_files_archived_before_the_move_to_the_database_are_read_and_copied_in(tmp_path):
    (tmp_path / "home").mkdir()
    with database_urls(tmp_path, "postgresql") as url:
        engine = db.make_engine(url)
        db.migrate(engine)
        files = FileArchive(tmp_path / "archive")
        old, damaged = files.put(SCAN, ".bin"), files.put(b"original", ".bin")
        path = files.local_path(damaged, ".bin")
        assert path is not None
        path.write_bytes(b"changed on disk")
        here = DatabaseArchive(engine, files=files)
        assert here.get(old, ".bin") == SCAN
        assert DatabaseArchive(engine).get(old, ".bin") == SCAN  # copied in: another machine reads it
        with pytest.raises(NotArchived):
            here.get(damaged, ".bin")  # not taken for the original
        engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_composition_root_chooses_the_archive_by_the_database(tmp_path, kind):
    with database_urls(tmp_path, kind) as url:
        cfg = home_config(tmp_path, url)
        engine = db.make_engine(url)
        chosen = daemon.open_archive(cfg, engine)
        assert isinstance(chosen, DatabaseArchive if kind == "postgresql" else FileArchive)
        engine.dispose()


def test_a_resolution_whose_scan_is_missing_is_not_forwarded_without_it(tmp_path):
    office = Office(tmp_path)  # a registered complaint with its scan, «на резолюцию» sent
    engine, s = office.db()
    with s:
        [att] = s.exec(select(DocAttachment)).all()
    path = FileArchive(office.cfg.archive_dir).local_path(att.sha256, ".bin")
    assert path is not None
    path.unlink()  # lost (another machine's disk, a restore that missed it)
    [o] = office.send(office.reply("Петрову А.С. — рассмотреть."))
    assert o.status == "quarantined" and "не найден в архиве" in o.reason and att.filename in o.reason
    assert office.sent("forward") == []  # never forwarded without the scan
    with Session(engine) as s, pytest.raises(scans.MissingScan) as missing:
        doc = s.exec(select(Document)).one()
        scans.of_document(s, FileArchive(office.cfg.archive_dir), doc)
    assert missing.value.sha256 == att.sha256 and missing.value.number == office.number
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(SCAN)  # put back: the same reply goes through
    [again] = office.send(office.reply("Петрову А.С. — рассмотреть."))
    assert again.status == "resolution"
    [fwd] = office.sent("forward")
    assert [a.get_content() for a in fwd.iter_attachments()] == [SCAN]
    engine.dispose()
