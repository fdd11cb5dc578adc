"""Stores on S3-compatible object storage (``s3://bucket/prefix``) against a moto S3
server on 127.0.0.1 (the ``moto_s3`` fixture): the store API there, Dagster writers in
two processes and a reader in a third, Dagster's multiprocess executor, a held store that sees other writers, explicit
configuration over the environment, the weather example, and clear errors for a missing bucket and an
unreachable endpoint. (Every test of test_io_manager.py also runs on s3://.)"""

import gc
import multiprocessing
import os
import pathlib
import pickle
import signal
import subprocess
import sys
import time
from typing import Any

import dagster as dg
import pyarrow as pa
import pytest

import tessera_dagster as td
from tessera_dagster import TesseraIOManager, values
from tessera_dagster.arrow import ipc_bytes, table_from_blob

from conftest import MotoServer, free_port

DAILY = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-02-01")
WRITER_DAYS = (
    ["2024-01-01", "2024-01-03", "2024-01-05"],
    ["2024-01-02", "2024-01-04", "2024-01-06"],
)
# Upper bound of a call that must fail rather than hang (object_store's default
# retries alone would take minutes against an unreachable endpoint).
FAILS_WITHIN_SECONDS = 60


@dg.asset(partitions_def=DAILY)
def readings(context: dg.AssetExecutionContext) -> pa.Table:
    day = context.partition_key
    return pa.table({"day": [day] * 4, "value": [float(i) for i in range(4)]})


def materialize_days(base_dir: str, cache_dir: str, days: list[str]) -> None:
    """A writer process: materializes ``readings`` for ``days``, one run each."""
    manager = TesseraIOManager(base_dir=base_dir, cache_dir=cache_dir)
    for day in days:
        result = dg.materialize([readings], resources={"io_manager": manager}, partition_key=day)
        assert result.success


def read_after_refresh(base_dir: str, cache_dir: str, ready: Any, go: Any, queue: Any) -> None:
    """A reader process: opens read-only before the writers start, then refreshes."""
    store = td.Store(base_dir, read_only=True, cache_dir=cache_dir)
    before = store.list_partitions(["readings"])
    ready.set()
    go.wait(300)
    outcome = store.refresh()
    days = {
        key: table_from_blob(store.get(["readings"], key)).column("day").to_pylist()
        for key in store.list_partitions(["readings"])
    }
    queue.put((before, outcome, days))


def test_the_store_api_on_s3(s3_store: str, tmp_path) -> None:
    table = pa.table({"x": list(range(100))})
    with td.Store(s3_store, cache_dir=str(tmp_path / "writer")) as store:
        store.put(["a", "b"], "p1", ipc_bytes(table), codec="arrow", data_version="v1")
        store.put(["a", "b"], "p2", b"raw", metadata={"k": "v"})
        store.put(["plain"], None, b"unpartitioned")
        assert store.delete(["plain"], None)
        report = store.verify()
        assert report["ok"] and report["checked"] == 2 and report["damaged"] == []
    reader = td.Store(s3_store, read_only=True, cache_dir=str(tmp_path / "reader"))
    assert reader.list_assets() == [["a", "b"]]
    assert reader.list_partitions(["a", "b"]) == ["p1", "p2"]
    assert table_from_blob(reader.get(["a", "b"], "p1")).equals(table)
    meta = reader.meta(["a", "b"], "p2")
    assert meta["metadata"] == {"k": "v"} and meta["size"] == 3
    assert reader.meta(["a", "b"], "p1")["data_version"] == "v1"
    assert not reader.contains(["plain"], None)
    with pytest.raises(td.ReadOnlyError):
        reader.put(["a", "b"], "p3", b"no")
    with td.Store(s3_store, cache_dir=str(tmp_path / "other")) as other:
        other.put(["a", "b"], "p3", b"later")
    assert reader.get(["a", "b"], "p3") is None
    assert reader.refresh() == "caught_up"
    assert reader.get(["a", "b"], "p3").to_bytes() == b"later"
    assert reader.refresh() == "unchanged"


def test_a_read_only_open_of_an_empty_prefix_creates_nothing(s3_store: str) -> None:
    with pytest.raises(td.NotAStoreError):
        td.Store(s3_store, read_only=True)


def test_remote_options_are_refused_for_a_directory(tmp_path) -> None:
    with pytest.raises(ValueError, match="object-store addresses"):
        td.Store(str(tmp_path / "store"), cache_dir=str(tmp_path / "cache"))


def test_an_unknown_storage_option_is_refused(s3_store: str) -> None:
    with pytest.raises(ValueError, match="no_such_setting"):
        td.Store(s3_store, storage_options={"no_such_setting": "1"})


def test_two_writer_processes_and_a_reader_in_a_third(s3_store: str, tmp_path) -> None:
    td.Store(s3_store).close()
    context = multiprocessing.get_context("spawn")
    ready, go, queue = context.Event(), context.Event(), context.Queue()
    reader = context.Process(
        target=read_after_refresh,
        args=(s3_store, str(tmp_path / "reader-cache"), ready, go, queue),
    )
    reader.start()
    assert ready.wait(120), "the reader process did not open the store"
    writers = [
        context.Process(
            target=materialize_days, args=(s3_store, str(tmp_path / f"writer-{n}-cache"), days)
        )
        for n, days in enumerate(WRITER_DAYS)
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=300)
        assert writer.exitcode == 0
    go.set()
    before, outcome, days = queue.get(timeout=120)
    reader.join(timeout=60)
    assert reader.exitcode == 0
    every_day = sorted(day for written in WRITER_DAYS for day in written)
    assert before == []
    assert outcome == "caught_up"
    assert sorted(days) == every_day
    assert all(days[day] == [day] * 4 for day in every_day)

    seen: dict[str, pa.Table] = {}

    mapping = dg.SpecificPartitionsPartitionMapping(every_day)

    @dg.asset(ins={"readings": dg.AssetIn(partition_mapping=mapping)})
    def downstream(readings: dict[str, pa.Table]) -> None:
        seen.update(readings)

    manager = TesseraIOManager(base_dir=s3_store, cache_dir=str(tmp_path / "main-cache"))
    result = dg.materialize([readings, downstream], resources={"io_manager": manager}, selection=[downstream])
    assert result.success
    assert sorted(seen) == every_day
    assert all(seen[day].column("day").to_pylist() == [day] * 4 for day in every_day)


def test_keep_open_on_s3_sees_what_other_writers_commit(s3_store: str, tmp_path) -> None:
    @dg.asset
    def source() -> bytes:
        return b"first"

    @dg.asset
    def copy(source: bytes) -> bytes:
        return source

    manager = TesseraIOManager(base_dir=s3_store, keep_open=True, cache_dir=str(tmp_path / "held"))
    assert dg.materialize([source], resources={"io_manager": manager}).success
    with td.Store(s3_store, cache_dir=str(tmp_path / "other")) as other:
        other.put(["source"], None, b"second", metadata={values.TYPE_KEY: values.BYTES})
    result = dg.materialize([source, copy], resources={"io_manager": manager}, selection=[copy])
    assert result.success
    with td.Store(s3_store, read_only=True, cache_dir=str(tmp_path / "check")) as check:
        assert check.get(["copy"], None).to_bytes() == b"second"


def test_explicit_endpoint_overrides_the_environment(
    s3_store: str, moto_s3: MotoServer, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.delenv("AWS_ALLOW_HTTP")

    @dg.asset
    def configured() -> bytes:
        return b"through endpoint_url"

    manager = TesseraIOManager(
        base_dir=s3_store,
        endpoint_url=moto_s3.endpoint,
        region_name="us-east-1",
        cache_dir=str(tmp_path / "cache"),
        max_retries=0,
    )
    assert dg.materialize([configured], resources={"io_manager": manager}).success
    options = {"endpoint": moto_s3.endpoint, "allow_http": "true"}
    with td.Store(s3_store, read_only=True, storage_options=options) as store:
        assert store.get(["configured"], None).to_bytes() == b"through endpoint_url"


def test_a_missing_bucket_is_a_clear_error(moto_s3: MotoServer, tmp_path) -> None:
    address = "s3://no-such-bucket/prefix"
    with pytest.raises(td.ObjectStoreError, match="no-such-bucket"):
        td.Store(address, cache_dir=str(tmp_path / "cache"))

    @dg.asset
    def nowhere() -> bytes:
        return b"x"

    manager = TesseraIOManager(base_dir=address, cache_dir=str(tmp_path / "cache"))
    result = dg.materialize([nowhere], resources={"io_manager": manager}, raise_on_error=False)
    assert not result.success
    failure = result.get_step_failure_events()[0].event_specific_data.error.to_string()
    assert "ObjectStoreError" in failure and "no-such-bucket" in failure


def test_an_unreachable_endpoint_fails_instead_of_hanging(tmp_path) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(td.ObjectStoreError, match="127.0.0.1"):
        td.Store(
            "s3://tessera-tests/unreachable",
            cache_dir=str(tmp_path / "cache"),
            storage_options={
                "endpoint": endpoint,
                "allow_http": "true",
                "connect_timeout": "2s",
                "access_key_id": "unused",
                "secret_access_key": "unused",
                "region": "us-east-1",
            },
            max_retries=1,
        )
    assert time.monotonic() - started < FAILS_WITHIN_SECONDS


def test_multiprocess_executor_on_s3(s3_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Dagster's multiprocess executor: four parallel steps, each in its own process, all
    committing to one s3:// store (and sharing the default cache directory)."""
    from fan_out_job import BRANCHES, ROWS, fan_out_job

    monkeypatch.setenv("TESSERA_TEST_STORE", s3_store)
    monkeypatch.chdir(pathlib.Path(__file__).parent)  # where the step subprocesses import the job
    with dg.instance_for_test() as instance:
        result = dg.execute_job(
            dg.reconstructable(fan_out_job),
            instance=instance,
            run_config={"execution": {"config": {"max_concurrent": BRANCHES}}},
        )
        assert result.success
    base = ROWS * (ROWS - 1) // 2
    with td.Store(s3_store, read_only=True) as store:
        gathered = pickle.loads(store.get(["gathered"], None).to_bytes())
        branches = [["branch_" + str(i)] for i in range(BRANCHES)]
        assert [asset for asset in store.list_assets() if asset in branches] == branches
        assert store.verify()["ok"]
    assert gathered == {f"branch_{i}": base + i * ROWS for i in range(BRANCHES)}


def test_the_weather_example_on_s3(s3_store: str) -> None:
    """The README's command: the weather example with TESSERA_STORE=s3://…"""
    example = pathlib.Path(__file__).resolve().parents[1] / "examples" / "weather.py"
    done = subprocess.run(
        [sys.executable, str(example)],
        env={**os.environ, "TESSERA_STORE": s3_store},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "mean_7d_c" in done.stdout
    with td.Store(s3_store, read_only=True) as store:
        days = store.list_partitions(["public", "weather_obs"])
        assert store.list_partitions(["public", "summary"]) == [None]
    assert days == [f"2024-01-{d:02}" for d in range(1, 32)]


def test_a_file_address_is_a_store_on_object_storage_too(tmp_path) -> None:
    """The engine's other addresses go to it as they are: file:// (a shared file system,
    no server) through the manager, with its own cache; S3 options are refused there."""
    address = f"file://{tmp_path}/shared"
    manager = TesseraIOManager(base_dir=address, cache_dir=str(tmp_path / "cache"))
    for day in WRITER_DAYS[0]:
        assert dg.materialize([readings], resources={"io_manager": manager}, partition_key=day).success
    assert (tmp_path / "shared" / "FORMAT").is_file()
    assert not (tmp_path / "file:").exists()
    with td.Store(address, read_only=True, cache_dir=str(tmp_path / "reader")) as store:
        assert store.list_partitions(["readings"]) == WRITER_DAYS[0]
    with pytest.raises(ValueError, match="s3:// addresses only"):
        td.Store(address, storage_options={"region": "us-east-1"})


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_lets_go_of_its_parents_s3_stores(
    s3_store: str, moto_s3: MotoServer, tmp_path
) -> None:
    """A child forked after the parent used s3:// stores through a host name (the DNS
    lookup runs on the runtime's blocking threads, which the child does not have) drops
    and closes its copies without waiting for those threads (it hung before), and opens
    its own store."""
    options = {"endpoint": moto_s3.endpoint.replace("127.0.0.1", "localhost")}
    writer = td.Store(s3_store, cache_dir=str(tmp_path / "parent"), storage_options=options)
    writer.put(["a"], "p", b"from the parent")
    reader = td.Store(s3_store, read_only=True, cache_dir=str(tmp_path / "parent"), storage_options=options)
    assert reader.get(["a"], "p").to_bytes() == b"from the parent"
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            own = td.Store(s3_store, read_only=True, cache_dir=str(tmp_path / "child"))
            if own.get(["a"], "p").to_bytes() == b"from the parent":
                writer.close()
                del writer, reader, own
                gc.collect()
                code = 0
        finally:
            os._exit(code)
    deadline = time.monotonic() + 30
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the child hung letting go of its parent's stores")
        time.sleep(0.01)
    assert os.waitstatus_to_exitcode(status) == 0
    writer.put(["a"], "q", b"the parent's store still works")
    assert reader.refresh() == "caught_up"
    assert reader.get(["a"], "q").to_bytes() == b"the parent's store still works"


def test_a_lingering_writer_on_s3_shares_the_store_with_other_writers(s3_store: str, tmp_path) -> None:
    """There is no lock: while this process's lingering writer stays open, another
    writer commits at once, and the lingering writer's next commit lands after it
    (it catches up when its create of the next log object is refused)."""
    from tessera_dagster import writers

    manager = TesseraIOManager(base_dir=s3_store, write_linger=30.0, cache_dir=str(tmp_path / "mine"))

    def store_day(day: str) -> td.Store:
        context = dg.build_output_context(
            asset_key=dg.AssetKey("readings"), partition_key=day, asset_partitions_def=DAILY
        )
        manager.handle_output(context, pa.table({"day": [day]}))
        (writer,) = [w for key, w in writers._WRITERS.items() if key[0] == os.getpid() and key[1] == s3_store]
        return writer.store

    first = store_day("2024-01-01")
    with td.Store(s3_store, lock_timeout=0.0, cache_dir=str(tmp_path / "other")) as other:
        other.put(["readings"], "2024-01-02", b"another writer, while the first lingers")
    assert store_day("2024-01-03") is first, "the second write reused the lingering writer"
    writers.close_writers()
    assert first.closed
    with td.Store(s3_store, read_only=True, cache_dir=str(tmp_path / "check")) as check:
        assert check.list_partitions(["readings"]) == ["2024-01-01", "2024-01-02", "2024-01-03"]
        assert check.get(["readings"], "2024-01-02").to_bytes().startswith(b"another writer")
