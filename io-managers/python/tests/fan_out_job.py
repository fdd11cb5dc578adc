"""A job for the multiprocess-executor test: a seed asset, four parallel steps
that read it and write 1 MiB tables, and a step that gathers all four. Loaded by
reference (`dagster.reconstructable`) in each step's subprocess; the store
directory comes from $TESSERA_TEST_STORE."""


import dagster as dg
import pyarrow as pa

from tessera_dagster import TesseraIOManager

BRANCHES = 4
ROWS = 128 * 1024  # 1 MiB of int64


@dg.asset
def seed() -> pa.Table:
    return pa.table({"x": pa.array(range(ROWS), pa.int64())})


def branch(index: int) -> dg.AssetsDefinition:
    @dg.asset(name=f"branch_{index}")
    def _branch(seed: pa.Table) -> pa.Table:
        return pa.table({"x": pa.compute.add(seed.column("x"), index)})

    return _branch


BRANCH_ASSETS = [branch(i) for i in range(BRANCHES)]


@dg.asset(ins={f"branch_{i}": dg.AssetIn() for i in range(BRANCHES)})
def gathered(**branches: pa.Table) -> dict:
    return {name: pa.compute.sum(table.column("x")).as_py() for name, table in branches.items()}


def fan_out_job() -> dg.JobDefinition:
    definitions = dg.Definitions(
        assets=[seed, *BRANCH_ASSETS, gathered],
        jobs=[dg.define_asset_job("fan_out", executor_def=dg.multiprocess_executor)],
        resources={
            "io_manager": TesseraIOManager(
                base_dir=dg.EnvVar("TESSERA_TEST_STORE"), durability="buffered"
            )
        },
    )
    return definitions.resolve_job_def("fan_out")
