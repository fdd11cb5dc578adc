"""Several processes on one store: writers in real processes take turns through
the directory lock and lose nothing; a reader opened later sees every commit;
the I/O manager's cached read-only store sees what other processes commit,
overwrite and delete after it was opened; Dagster's multiprocess executor runs
four parallel steps on one store."""

from __future__ import annotations

import gc
import multiprocessing
import os
import pathlib
import pickle
import signal
import sys
import time

import dagster as dg
import pyarrow as pa
import pytest

import tessera_dagster as td
from tessera_dagster.arrow import ipc_bytes, table_from_blob
from tessera_dagster.io_manager import MissingPartitionError
from tessera_dagster.readers import refreshed_reader

WRITERS = 4
WRITES_EACH = 30


def payload(writer: int, write: int) -> bytes:
    return f"{writer}:{write};".encode() * 500


def write_many(store_dir: str, writer: int) -> None:
    for write in range(WRITES_EACH):
        with td.Store(store_dir, lock_timeout=60.0) as store:
            store.put(["shared"], f"w{writer}-{write:03}", payload(writer, write))


def read_while_writing(store_dir: str, queue: multiprocessing.Queue) -> None:
    seen = 0
    for _ in range(20):
        with td.Store(store_dir, lock_timeout=60.0) as store:
            partitions = store.list_partitions(["shared"])
            assert len(partitions) >= seen, "a later open saw fewer commits"
            seen = len(partitions)
            for key in partitions[-3:]:
                writer, write = key[1:].split("-")
                assert store.get(["shared"], key).to_bytes() == payload(int(writer), int(write))
    queue.put(seen)


def test_writer_processes_take_turns_and_lose_nothing(store_dir: str) -> None:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    processes = [context.Process(target=write_many, args=(store_dir, w)) for w in range(WRITERS)]
    processes.append(context.Process(target=read_while_writing, args=(store_dir, queue)))
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=300)
        assert process.exitcode == 0
    assert queue.get(timeout=5) <= WRITERS * WRITES_EACH
    with td.Store(store_dir) as store:
        partitions = store.list_partitions(["shared"])
        assert len(partitions) == WRITERS * WRITES_EACH
        for writer in range(WRITERS):
            for write in range(WRITES_EACH):
                blob = store.get(["shared"], f"w{writer}-{write:03}")
                assert blob.to_bytes() == payload(writer, write)
        assert store.verify()["ok"]


def test_a_blob_read_in_one_process_survives_writes_by_another(store_dir: str) -> None:
    table = pa.table({"x": list(range(1000))})
    with td.Store(store_dir) as store:
        store.put(["a"], "p", ipc_bytes(table), codec="arrow")
        blob = store.get(["a"], "p")
    loaded = table_from_blob(blob)
    context = multiprocessing.get_context("spawn")
    process = context.Process(target=write_many, args=(store_dir, 9))
    process.start()
    process.join(timeout=300)
    assert process.exitcode == 0
    assert loaded.equals(table)


def test_multiprocess_executor_with_four_parallel_steps(store_dir: str, monkeypatch) -> None:
    from fan_out_job import BRANCHES, ROWS, fan_out_job

    monkeypatch.setenv("TESSERA_TEST_STORE", store_dir)
    monkeypatch.chdir(pathlib.Path(__file__).parent)  # where the step subprocesses import the job
    with dg.instance_for_test() as instance:
        result = dg.execute_job(
            dg.reconstructable(fan_out_job),
            instance=instance,
            run_config={"execution": {"config": {"max_concurrent": BRANCHES}}},
        )
        assert result.success
        step_pids = {
            event.pid
            for event in result.all_events
            if event.event_type == dg.DagsterEventType.STEP_START
        }
    assert len(step_pids) == BRANCHES + 2, "each step ran in its own process"
    base = ROWS * (ROWS - 1) // 2
    with td.Store(store_dir) as store:
        gathered = pickle.loads(store.get(["gathered"], None).to_bytes())
        assert store.verify()["ok"]
    assert gathered == {f"branch_{i}": base + i * ROWS for i in range(BRANCHES)}


DAILY = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-02-01")


def store_day(store_dir: str, day: str, value: pa.Table) -> None:
    """Stores ``value`` as partition ``day`` of asset ``days`` through the I/O manager."""
    context = dg.build_output_context(
        asset_key=dg.AssetKey("days"), partition_key=day, asset_partitions_def=DAILY
    )
    td.TesseraIOManager(base_dir=store_dir).handle_output(context, value)


def load_day(manager: td.TesseraIOManager, day: str, **metadata) -> pa.Table | None:
    context = dg.build_input_context(
        asset_key=dg.AssetKey("days"),
        asset_partitions_def=DAILY,
        asset_partition_key_range=dg.PartitionKeyRange(day, day),
        dagster_type=dg.DagsterType(lambda _, __: True, name="Any", typing_type=pa.Table),
        definition_metadata=metadata,
    )
    return manager.load_input(context)


def rewrite_days(store_dir: str) -> None:
    """In another process: overwrites one day, adds one, deletes one."""
    store_day(store_dir, "2024-01-01", pa.table({"v": [10, 20]}))
    store_day(store_dir, "2024-01-03", pa.table({"v": [3]}))
    with td.Store(store_dir, lock_timeout=60.0) as store:
        assert store.delete(["days"], "2024-01-02")


def test_loads_see_what_other_processes_commit_after_the_reader_was_cached(store_dir: str) -> None:
    store_day(store_dir, "2024-01-01", pa.table({"v": [1]}))
    store_day(store_dir, "2024-01-02", pa.table({"v": [2]}))
    manager = td.TesseraIOManager(base_dir=store_dir)
    first = load_day(manager, "2024-01-01")
    assert first.column("v").to_pylist() == [1]
    assert load_day(manager, "2024-01-02").column("v").to_pylist() == [2]
    cached = refreshed_reader(store_dir, 1.0)
    process = multiprocessing.get_context("spawn").Process(target=rewrite_days, args=(store_dir,))
    process.start()
    process.join(timeout=300)
    assert process.exitcode == 0
    assert load_day(manager, "2024-01-01").column("v").to_pylist() == [10, 20], "the overwrite"
    assert load_day(manager, "2024-01-03").column("v").to_pylist() == [3], "the new partition"
    with pytest.raises(MissingPartitionError, match="2024-01-02"):
        load_day(manager, "2024-01-02")
    assert load_day(manager, "2024-01-02", allow_missing_partitions=True) is None
    assert refreshed_reader(store_dir, 1.0) is cached, "one reader for the process"
    assert cached.refresh() == "unchanged"
    assert first.column("v").to_pylist() == [1], "a value loaded before keeps its data"


def test_store_refresh_reports_what_it_did(store_dir: str) -> None:
    with td.Store(store_dir) as writer:
        writer.put(["a"], "p", b"one")
        reader = td.Store(store_dir, read_only=True)
        blob = reader.get(["a"], "p")
        assert reader.refresh() == "unchanged"
        writer.put(["a"], "p", b"two")
        writer.put(["a"], "q", b"three")
        assert reader.get(["a"], "q") is None
        assert reader.refresh() == "caught_up"
        assert reader.get(["a"], "p").to_bytes() == b"two"
        assert reader.get(["a"], "q").to_bytes() == b"three"
        writer.delete(["a"], "q")
        assert reader.refresh() == "caught_up"
        assert reader.get(["a"], "q") is None
        assert writer.refresh() == "unchanged"
    assert blob.to_bytes() == b"one"


def reader_identity(store_dir: str, parent_reader_id: int, queue: multiprocessing.Queue) -> None:
    """In a forked child: whether the cached reader is the parent's."""
    reader = refreshed_reader(store_dir, 1.0)
    queue.put((id(reader) == parent_reader_id, reader.get(["a"], "p").to_bytes(), os.getpid()))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_process_opens_its_own_reader(store_dir: str) -> None:
    with td.Store(store_dir) as writer:
        writer.put(["a"], "p", b"x")
    parent = refreshed_reader(store_dir, 1.0)
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    process = context.Process(target=reader_identity, args=(store_dir, id(parent), queue))
    process.start()
    shared, value, pid = queue.get(timeout=60)
    process.join(timeout=60)
    assert process.exitcode == 0
    assert pid != os.getpid()
    assert not shared, "the child used its parent's store"
    assert value == b"x"


def test_loads_with_and_without_checksums(store_dir: str) -> None:
    """A payload damaged on disk after the readers opened raises CorruptedError
    through the default manager; with verify_checksums=False the load skips the
    crc32 and returns what the disk holds."""
    raw = b"precious data " * 1000
    checked = td.TesseraIOManager(base_dir=store_dir)
    unchecked = td.TesseraIOManager(base_dir=store_dir, verify_checksums=False)
    checked.handle_output(dg.build_output_context(asset_key=dg.AssetKey("raw")), raw)
    load = dg.build_input_context(
        asset_key=dg.AssetKey("raw"),
        dagster_type=dg.DagsterType(lambda _, __: True, name="Bytes", typing_type=bytes),
    )
    assert checked.load_input(load) == raw
    assert unchecked.load_input(load) == raw
    segment = next(pathlib.Path(store_dir, "segments").iterdir())
    at = segment.read_bytes().find(raw) + 100
    with open(segment, "r+b") as file:
        file.seek(at)
        file.write(bytes([raw[100] ^ 0xFF]))
    with pytest.raises(td.CorruptedError, match="corrupted"):
        checked.load_input(load)
    damaged = unchecked.load_input(load)
    assert len(damaged) == len(raw) and damaged != raw


def test_writes_in_a_burst_share_one_lingering_writer(store_dir: str) -> None:
    """Consecutive handle_outputs reuse one open writable store, which holds the lock
    until write_linger passes without a write; loads see the writes meanwhile."""
    from tessera_dagster import writers
    from tessera_dagster.remote import options_key, store_key

    manager = td.TesseraIOManager(base_dir=store_dir, durability="buffered", write_linger=30.0)
    store_days = ["2024-01-01", "2024-01-02"]
    opened = []
    for day in store_days:
        context = dg.build_output_context(
            asset_key=dg.AssetKey("days"), partition_key=day, asset_partitions_def=DAILY
        )
        manager.handle_output(context, pa.table({"v": [int(day[-1])]}))
        key = (os.getpid(), store_key(store_dir), "buffered", options_key({}))
        opened.append(writers._WRITERS[key].store)
    assert opened[0] is opened[1], "the second write reused the first one's store"
    with pytest.raises(td.LockedError):
        td.Store(store_dir, lock_timeout=0.0)
    assert load_day(manager, "2024-01-02").column("v").to_pylist() == [2]
    writers.close_writers()
    with td.Store(store_dir, lock_timeout=0.0) as store:
        assert store.list_partitions(["days"]) == store_days


def test_a_lingering_writer_closes_by_itself(store_dir: str) -> None:
    manager = td.TesseraIOManager(base_dir=store_dir, write_linger=0.05)
    manager.handle_output(dg.build_output_context(asset_key=dg.AssetKey("raw")), b"x")
    with td.Store(store_dir, lock_timeout=60.0) as store:
        assert store.get(["raw"], None).to_bytes() == b"x"


def test_write_linger_zero_releases_the_lock_at_once(store_dir: str) -> None:
    manager = td.TesseraIOManager(base_dir=store_dir, write_linger=0.0)
    manager.handle_output(dg.build_output_context(asset_key=dg.AssetKey("raw")), b"x")
    with td.Store(store_dir, lock_timeout=0.0) as store:
        assert store.get(["raw"], None).to_bytes() == b"x"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_dropping_its_copy_of_a_writable_store_leaves_it_alone(
    store_dir: str,
) -> None:
    """A child forked while the parent holds a writable store (as a lingering writer
    or keep_open does) drops its copy without flushing, sealing or waiting for the
    parent's background thread, which does not exist in the child (joining it
    panicked before the engine checked the process id)."""
    store = td.Store(store_dir, durability="buffered")
    store.put(["a"], "p", b"1")
    segment = next(pathlib.Path(store_dir, "segments").iterdir())
    preallocated = segment.stat().st_size
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            # A panic in the store's drop surfaces as an unraisable exception.
            sys.unraisablehook = lambda _: os._exit(3)
            del store
            gc.collect()
            code = 0
        finally:
            os._exit(code)
    deadline = time.monotonic() + 60
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the child hung dropping its copy of the store")
        time.sleep(0.01)
    assert os.waitstatus_to_exitcode(status) == 0
    assert segment.stat().st_size == preallocated, "the child sealed the parent's segment"
    store.put(["a"], "q", b"2")
    store.close()
    with td.Store(store_dir) as again:
        assert again.get(["a"], "p").to_bytes() == b"1"
        assert again.get(["a"], "q").to_bytes() == b"2"
        assert again.verify()["ok"]
