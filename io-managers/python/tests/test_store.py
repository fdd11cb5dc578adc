"""The low-level store API: bytes and Arrow in and out, listing, metadata, delete,
atomic batches, zero-copy reads, and clear errors for bad input."""

from __future__ import annotations

import gc
import pathlib
import sys

import pyarrow as pa
import pytest

import tessera_dagster as td
from tessera_dagster.arrow import ipc_bytes, table_from_blob

ASSET = ["public", "weather_obs"]


def test_bytes_round_trip_with_metadata(store_dir: str) -> None:
    with td.Store(store_dir) as store:
        store.put(ASSET, "2022-07-23", b"21.5,22.0", data_version="v1", metadata={"unit": "C"})
        blob = store.get(ASSET, "2022-07-23")
    assert blob.to_bytes() == b"21.5,22.0"
    assert blob.codec == "raw"
    assert blob.data_version == "v1"
    assert blob.metadata == {"unit": "C"}
    assert blob.asset == ASSET and blob.partition == "2022-07-23"
    assert blob.checksum == td.checksum(b"21.5,22.0")


def test_unpartitioned_key_is_none(store_dir: str) -> None:
    with td.Store(store_dir) as store:
        store.put(["summary"], None, b"all")
        assert store.get(["summary"], None).to_bytes() == b"all"
        assert store.list_partitions(["summary"]) == [None]


def test_list_meta_contains_delete(store_dir: str) -> None:
    with td.Store(store_dir, durability="buffered") as store:
        for day in ("2022-07-24", "2022-07-23"):
            store.put(ASSET, day, day.encode())
        store.put(["other"], "a", b"x")
        assert store.list_assets() == [["other"], ASSET]
        assert store.list_partitions(ASSET) == ["2022-07-23", "2022-07-24"]
        meta = store.meta(ASSET, "2022-07-23")
        assert meta["size"] == 10 and meta["codec"] == "raw"
        assert store.meta(ASSET, "1999-01-01") is None
        assert store.contains(ASSET, "2022-07-24")
        assert store.delete(ASSET, "2022-07-24") is True
        assert store.delete(ASSET, "2022-07-24") is False
        assert store.get(ASSET, "2022-07-24") is None
        assert store.verify()["ok"] is True


def test_put_many_is_one_batch_visible_after_reopen(store_dir: str) -> None:
    entries = [(ASSET, f"2022-07-{d:02}", bytes([d]) * 100, "raw", None, None) for d in range(1, 31)]
    with td.Store(store_dir) as store:
        store.put_many(entries)
    with td.Store(store_dir) as store:
        assert len(store.list_partitions(ASSET)) == 30
        assert store.get(ASSET, "2022-07-15").to_bytes() == bytes([15]) * 100


def test_arrow_read_is_zero_copy(store_dir: str) -> None:
    table = pa.table({"temp": pa.array(range(100_000), pa.float64()), "station": ["a"] * 100_000})
    with td.Store(store_dir) as store:
        store.put(ASSET, "2022-07-23", ipc_bytes(table), codec="arrow")
        blob = store.get(ASSET, "2022-07-23")
    loaded = table_from_blob(blob)
    assert loaded.equals(table)
    checked = 0
    for column in loaded.columns:
        for chunk in column.chunks:
            for buffer in chunk.buffers():
                if buffer is not None and buffer.size > 0:
                    assert blob.is_in_mapping(buffer.address)
                    assert blob.address <= buffer.address < blob.address + blob.size
                    checked += 1
    assert checked == 3  # float values; string offsets and characters (no validity bitmaps)
    original = table.column("temp").chunks[0].buffers()[1]
    assert not blob.is_in_mapping(original.address)


def test_a_loaded_table_keeps_its_blob_alive_after_close(store_dir: str) -> None:
    table = pa.table({"x": pa.array(range(10_000), pa.int64())})
    with td.Store(store_dir) as store:
        store.put(ASSET, "d", ipc_bytes(table), codec="arrow")
        blob = store.get(ASSET, "d")
        store.put(ASSET, "d", b"overwritten")
    references = sys.getrefcount(blob)
    loaded = table_from_blob(blob)
    assert sys.getrefcount(blob) > references
    del blob
    gc.collect()
    assert loaded.column("x").to_pylist() == list(range(10_000))
    del loaded
    gc.collect()


def test_a_closed_store_raises(store_dir: str) -> None:
    store = td.Store(store_dir)
    store.close()
    store.close()
    assert store.closed
    with pytest.raises(td.StoreClosedError, match="closed"):
        store.get(ASSET, "d")
    with pytest.raises(td.StoreClosedError):
        store.put(ASSET, "d", b"x")


def test_bad_keys_and_options_raise(store_dir: str) -> None:
    with td.Store(store_dir) as store:
        with pytest.raises(td.InvalidKeyError, match="asset key"):
            store.put([], "d", b"x")
        with pytest.raises(td.InvalidKeyError, match="partition key"):
            store.put(ASSET, "", b"x")
        with pytest.raises(ValueError, match="unknown codec"):
            store.put(ASSET, "d", b"x", codec="json")
        with pytest.raises(TypeError):
            store.put(ASSET, "d", "not bytes")
    with pytest.raises(ValueError, match="unknown durability"):
        td.Store(store_dir, durability="sometimes")


def test_a_second_handle_waits_or_fails_locked(store_dir: str) -> None:
    holder = td.Store(store_dir)
    with pytest.raises(td.LockedError, match="locked"):
        td.Store(store_dir, lock_timeout=0.3)
    holder.close()
    td.Store(store_dir, lock_timeout=0.3).close()


def test_a_corrupted_segment_raises_the_engine_error(store_dir: str) -> None:
    payload = b"precious data " * 1000
    with td.Store(store_dir) as store:
        store.put(ASSET, "2022-07-23", payload)
    segment = next(pathlib.Path(store_dir, "segments").iterdir())
    data = bytearray(segment.read_bytes())
    at = data.find(payload)
    data[at + 100] ^= 0xFF
    segment.write_bytes(bytes(data))
    with td.Store(store_dir) as store:
        with pytest.raises(td.CorruptedError, match="2022-07-23.*corrupted"):
            store.get(ASSET, "2022-07-23")
        report = store.verify()
    assert report["ok"] is False
    assert any("2022-07-23" in line for line in report["damaged"])


def test_read_only_open_sees_data_and_refuses_writes(store_dir: str) -> None:
    with td.Store(store_dir) as store:
        store.put(ASSET, "d", b"x")
    with td.Store(store_dir, read_only=True) as reader:
        assert reader.get(ASSET, "d").to_bytes() == b"x"
        with pytest.raises(td.ReadOnlyError):
            reader.put(ASSET, "e", b"y")


def test_history_lists_retained_versions_newest_first(store_dir: str) -> None:
    with td.Store(store_dir, keep_versions=3) as store:
        for n in range(4):
            store.put(ASSET, "2022-07-23", f"v{n}".encode(), data_version=f"v{n}")
        history = store.history(ASSET, "2022-07-23")
        assert [entry["data_version"] for entry in history] == ["v3", "v2", "v1"]
        assert history[0]["version"] > history[1]["version"] > history[2]["version"]
        oldest = store.get_version(ASSET, "2022-07-23", history[2]["version"])
        assert oldest.to_bytes() == b"v1"
        assert store.get_version(ASSET, "2022-07-23", 10**9) is None
        assert store.history(ASSET, "1999-01-01") == []
    with td.Store(store_dir) as store:
        assert [entry["data_version"] for entry in store.history(ASSET, "2022-07-23")] == ["v3"]
