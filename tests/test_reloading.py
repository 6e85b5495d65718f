"""IndexHolder on its own: when it reloads, what it keeps, what it reports. The loader is a
plain function over a folder with a real ``current`` symlink (the index itself is tested
in test_index.py and test_reload.py)."""

import os
from types import SimpleNamespace

import pytest

from qa.errors import IndexUnavailable
from qa.reloading import IndexHolder


def point(folder, version):
    link = folder / ".current-tmp"
    os.symlink(version, link)
    os.replace(link, folder / "current")


@pytest.fixture()
def holder(tmp_path):
    loads, reloads = [], []

    def load(pointer):
        version = os.readlink(tmp_path / "current")
        assert pointer == version
        if version.startswith("bad"):
            raise IndexUnavailable(f"{version} is corrupted")
        loads.append(version)
        return SimpleNamespace(version=version, summary=lambda: {"passages": 0})

    point(tmp_path, "v1")
    made = IndexHolder(str(tmp_path), load, interval=0.0, on_reload=lambda: reloads.append(1))
    made.refresh(force=True)
    return made, tmp_path, loads, reloads


def test_loads_once_and_swaps_only_when_current_moves(holder):
    made, folder, loads, reloads = holder
    assert made.require().version == "v1" and made.refresh() is False and loads == ["v1"]
    point(folder, "v2")
    assert made.refresh() is True and made.require().version == "v2" and made.reloads == 1 and reloads == [1]


def test_a_refused_version_is_reported_once_and_the_old_index_keeps_serving(holder):
    made, folder, loads, _ = holder
    point(folder, "bad-v2")
    assert made.refresh() is False and made.require().version == "v1" and "corrupted" in made.error
    assert made.refresh() is False and loads == ["v1"]  # not re-verified on every request
    point(folder, "v3")
    assert made.refresh() is True and made.error is None and made.require().version == "v3"


def test_the_interval_bounds_how_often_current_is_read(tmp_path):
    point(tmp_path, "v1")
    made = IndexHolder(str(tmp_path), lambda pointer: SimpleNamespace(version=pointer, summary=lambda: {"passages": 0}),
                       interval=3600.0)
    made.refresh(force=True)
    point(tmp_path, "v2")
    assert made.refresh() is False and made.require().version == "v1"  # not looked at yet
    assert made.refresh(force=True) is True and made.require().version == "v2"  # SIGHUP forces


def test_without_an_index_require_raises_the_reason(tmp_path):
    made = IndexHolder(str(tmp_path), lambda _: (_ for _ in ()).throw(IndexUnavailable("no index here")), interval=0)
    made.refresh(force=True)
    with pytest.raises(IndexUnavailable, match="no index here"):
        made.require()
    with pytest.raises(IndexUnavailable, match="no index here"):
        made.refresh(force=True, strict=True)


def test_the_loader_is_given_the_version_the_holder_read_once():
    """A Milvus alias is read once per refresh: the loader gets that collection, and the
    holder records the one it loaded (reading the alias twice could load one and record another)."""
    names = iter(["c1", "c2"])
    reads, loaded = [], []

    def pointer():
        reads.append(next(names))
        return reads[-1]

    def load(name):
        loaded.append(name)
        return SimpleNamespace(version=name, summary=lambda: {"passages": 0})

    made = IndexHolder("unused", load, interval=0.0, pointer=pointer)
    made.refresh(force=True)
    assert reads == ["c1"] and loaded == ["c1"] and made.require().version == "c1"
    assert made.refresh() is True and reads == ["c1", "c2"] and loaded == ["c1", "c2"]


def test_a_refused_version_falls_back_to_the_first_fallback_that_loads(tmp_path):
    """``fallbacks`` (QAService: the versions built after the one held) are tried in order;
    the refusal is still reported, and a refused fallback is skipped."""
    loaded = []

    def load(version):
        if version.startswith("bad"):
            raise IndexUnavailable(f"{version} is corrupted")
        loaded.append(version)
        return SimpleNamespace(version=version, summary=lambda: {"passages": 0})

    point(tmp_path, "v1")
    offered = []
    made = IndexHolder(str(tmp_path), load, interval=0.0,
                       fallbacks=lambda refused, held: offered.append((refused, held.version)) or ["bad-v3", "v2"])
    made.refresh(force=True)
    point(tmp_path, "bad-v4")
    assert made.refresh() is True and made.require().version == "v2" and "bad-v4 is corrupted" in made.error
    assert offered == [("bad-v4", "v1")] and loaded == ["v1", "v2"] and made.reloads == 1
    assert made.refresh() is False  # the refused pointer is not tried again


def test_the_versions_a_server_may_fall_back_to_are_newer_and_newest_first(tmp_path):
    import json

    from qa.index.layout import versions_built_after

    for name, built in [("v-a", "2026-01-01T00:00:00+00:00"), ("v-b", "2026-03-01T00:00:00+00:00"),
                        ("v-c", "2026-02-01T00:00:00+00:00"), ("v-broken", "2026-04-01T00:00:00+00:00")]:
        (tmp_path / name).mkdir()
        (tmp_path / name / "manifest.json").write_text(json.dumps({"built_at": built}))
    (tmp_path / "v-no-manifest").mkdir()
    assert versions_built_after(tmp_path, None, exclude="v-broken") == ["v-b", "v-c", "v-a"]
    assert versions_built_after(tmp_path, "2026-01-15T00:00:00+00:00", exclude="v-broken") == ["v-b", "v-c"]
    assert versions_built_after(tmp_path, "2026-03-01T00:00:00+00:00", exclude="v-broken") == []  # never a step back


def test_a_deleted_index_keeps_serving_from_memory_but_says_so_until_it_is_back(holder):
    """`rm -rf index` while serving: answers go on from memory, and /healthz (``error``) says
    that a restart would find nothing; the note goes when `current` is back."""
    made, folder, loads, _ = holder
    (folder / "current").unlink()
    assert made.refresh() is False and made.require().version == "v1"
    assert made.error == f"the index {folder} names no version any more; serving v1 from memory until a build makes one"
    point(folder, "v1")
    assert made.refresh() is False and made.error is None and loads == ["v1"]
    point(folder, "bad-v2")
    made.refresh()
    (folder / "current").unlink()
    made.refresh()
    point(folder, "bad-v2")
    assert made.refresh() is False and "bad-v2 is corrupted" in made.error  # back: its refusal, not silence
