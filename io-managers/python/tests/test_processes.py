"""Several processes on one store: writers in real processes take turns through
the directory lock and lose nothing; a reader opened later sees every commit;
Dagster's multiprocess executor runs four parallel steps on one store."""

from __future__ import annotations

import multiprocessing
import pathlib
import pickle

import dagster as dg
import pyarrow as pa

import tessera_dagster as td
from tessera_dagster.arrow import ipc_bytes, table_from_blob

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
