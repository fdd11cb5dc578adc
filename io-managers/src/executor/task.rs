//! Running one task: load the inputs, compute, store the output, record.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Utc};

use super::asset::{AssetDefinition, AssetInput};
use super::compute::{AssetContext, Output, OutputValue};
use super::definitions::Definitions;
use super::inputs::Inputs;
use super::plan::{PlannedInput, Task};
use super::result::{PartitionOutcome, TaskStatus};
use crate::context::{InputContext, OutputContext};
use crate::error::{Error, Result};
use crate::metadata::Metadata;
use crate::records::{
    FailureRecord, InputProvenance, MaterializationRecord, NULL_DATA_VERSION,
    data_version_from_inputs, partitioned_input_data_version,
};

/// What every task of one run shares.
pub(crate) struct TaskRun<'a> {
    definitions: &'a Definitions,
    run_id: String,
}

impl<'a> TaskRun<'a> {
    pub(crate) fn new(definitions: &'a Definitions, now: DateTime<Utc>) -> Self {
        static RUNS: AtomicU64 = AtomicU64::new(0);
        let serial = RUNS.fetch_add(1, Ordering::Relaxed);
        let run_id = format!(
            "{}-{}-{serial}",
            now.format("%Y%m%dT%H%M%S%.6f"),
            std::process::id()
        );
        Self {
            definitions,
            run_id,
        }
    }

    pub(crate) fn run_id(&self) -> &str {
        &self.run_id
    }

    /// One outcome per partition of `task`.
    pub(crate) fn outcomes(&self, task: &Task, status: &TaskStatus) -> Vec<PartitionOutcome> {
        let asset = &self.definitions.assets[task.asset].key;
        let partitions: Vec<Option<String>> = match &task.partitions {
            None => vec![None],
            Some(keys) => keys.iter().cloned().map(Some).collect(),
        };
        partitions
            .into_iter()
            .map(|partition| PartitionOutcome {
                asset: asset.clone(),
                partition,
                status: status.clone(),
            })
            .collect()
    }

    /// `asset` or `asset [first..last]`, for messages.
    pub(crate) fn describe(&self, task: &Task) -> String {
        let asset = &self.definitions.assets[task.asset].key;
        match task.partitions.as_deref() {
            None | Some([]) => asset.to_string(),
            Some([key]) => format!("{asset} [{key}]"),
            Some([first, .., last]) => format!("{asset} [{first}..{last}]"),
        }
    }
}

/// Runs one task and records its outcome; never panics on a failing compute.
pub(crate) fn run_task(run: &TaskRun<'_>, task: &Task) -> TaskStatus {
    let started = Instant::now();
    let started_at = Utc::now();
    let outcome = match &task.invalid {
        Some(error) => Err(error.to_string()),
        None => execute(run, task, started, started_at).map_err(|e| e.to_string()),
    };
    match outcome {
        Ok(Materialized {
            metadata,
            data_version,
            log,
        }) => TaskStatus::Materialized {
            duration: started.elapsed(),
            metadata,
            data_version,
            log,
        },
        Err(error) => {
            let recorded = record_failure(run, task, &error);
            TaskStatus::Failed {
                error: match recorded {
                    Ok(()) => error,
                    Err(record_error) => {
                        format!("{error} (and recording the failure failed: {record_error})")
                    }
                },
            }
        }
    }
}

fn execute(
    run: &TaskRun<'_>,
    task: &Task,
    started: Instant,
    started_at: DateTime<Utc>,
) -> Result<Materialized> {
    let definitions = run.definitions;
    let asset = &definitions.assets[task.asset];
    let (mut inputs, provenance) = load_inputs(run, asset, task)?;
    let context = AssetContext {
        asset_key: asset.key.clone(),
        run_id: run.run_id.clone(),
        partition_keys: task.partitions.clone(),
        time_window: task.time_window,
        definition_metadata: asset.metadata.clone(),
        log: Mutex::new(Vec::new()),
    };
    let output = compute(asset, &context, &mut inputs)?;
    let code_version = asset
        .code_version
        .clone()
        .unwrap_or_else(|| run.run_id.clone());
    let user_provided = output.data_version.is_some();
    let data_version = output.data_version.clone().unwrap_or_else(|| {
        data_version_from_inputs(
            &code_version,
            provenance
                .iter()
                .map(|p| (p.asset.join("/"), p.data_version.as_str())),
        )
    });
    let output_context = output_context(asset, task, &code_version, &data_version);
    store_output(definitions, asset, &output_context, output.value)?;
    let partitions: Vec<Option<String>> = match &task.partitions {
        None => vec![None],
        Some(keys) => keys.iter().cloned().map(Some).collect(),
    };
    let duration_micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    let mut reported = Metadata::new();
    let records: Vec<(Option<String>, MaterializationRecord)> = partitions
        .into_iter()
        .map(|partition| {
            let mut metadata = match &partition {
                Some(key) => output_context.metadata_for_partition(key),
                None => output_context.output_metadata(),
            };
            metadata.extend(output.metadata.clone());
            reported.clone_from(&metadata);
            let record = MaterializationRecord {
                run_id: run.run_id.clone(),
                started_at_micros: started_at.timestamp_micros(),
                duration_micros,
                code_version: code_version.clone(),
                data_version: data_version.clone(),
                data_version_user_provided: user_provided,
                metadata,
                inputs: provenance.clone(),
                stored_version: output_context.stored_version(partition.as_deref()),
            };
            (partition, record)
        })
        .collect();
    definitions
        .records
        .record_materializations(&asset.key, &records)?;
    Ok(Materialized {
        metadata: reported,
        data_version,
        log: context.take_log(),
    })
}

/// What a successful task reports.
struct Materialized {
    metadata: Metadata,
    data_version: String,
    log: Vec<String>,
}

fn compute(asset: &AssetDefinition, context: &AssetContext, inputs: &mut Inputs) -> Result<Output> {
    let failed = |message: String| Error::Compute {
        asset: asset.key.clone(),
        message,
    };
    match catch_unwind(AssertUnwindSafe(|| (asset.compute)(context, inputs))) {
        Ok(Ok(output)) => Ok(output),
        Ok(Err(error)) => Err(failed(error.to_string())),
        Err(panic) => Err(failed(panic_message(panic.as_ref()))),
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    format!("the compute function panicked: {detail}")
}

fn load_inputs(
    run: &TaskRun<'_>,
    asset: &AssetDefinition,
    task: &Task,
) -> Result<(Inputs, Vec<InputProvenance>)> {
    let definitions = run.definitions;
    let mut inputs = Inputs::default();
    let mut provenance = Vec::with_capacity(asset.inputs.len());
    for (input, planned) in asset.inputs.iter().zip(&task.inputs) {
        let upstream = &definitions.assets[planned.upstream];
        let context = input_context(input, upstream, planned, task);
        let loader = input
            .input_manager_key
            .as_deref()
            .unwrap_or(&upstream.io_manager_key);
        let manager = definitions.managers.input_manager(loader)?;
        inputs.insert(
            input.name.clone(),
            manager.load_input_erased(loader, &context)?,
        );
        provenance.push(input_provenance(definitions, upstream, planned, &context)?);
    }
    Ok((inputs, provenance))
}

fn input_context(
    input: &AssetInput,
    upstream: &AssetDefinition,
    planned: &PlannedInput,
    task: &Task,
) -> InputContext {
    let mut upstream_output = OutputContext::builder(upstream.key.clone());
    for (key, value) in &upstream.metadata {
        upstream_output = upstream_output.definition_metadata(key.clone(), value.clone());
    }
    if let Some(version) = &upstream.code_version {
        upstream_output = upstream_output.code_version(version.clone());
    }
    let mut builder = InputContext::builder(upstream.key.clone())
        .name(input.name.clone())
        .upstream_output(Arc::new(upstream_output.build()))
        .allow_missing_partitions(input.allow_missing_partitions)
        .load_mode(input.load_mode);
    if let Some([key]) = task.partitions.as_deref() {
        builder = builder.partition_key(key.clone());
    }
    if let Some(keys) = &planned.keys {
        builder = builder.asset_partition_keys(keys.clone());
    }
    if let Some(window) = planned.time_window {
        builder = builder.time_window(window);
    }
    if let Some(columns) = &input.columns {
        builder = builder.columns(columns.clone());
    }
    if let Some(as_of) = input.as_of {
        builder = builder.as_of(as_of);
    }
    for (key, value) in &input.metadata {
        builder = builder.definition_metadata(key.clone(), value.clone());
    }
    builder.build()
}

/// The data versions an input read, per partition, however many there are
/// (Dagster keeps them only below 100 partitions), read with one range scan,
/// and the store versions its loads read.
///
/// An input loaded as of an earlier version takes each partition's data
/// version from the version it read, when that version carries one: the
/// record then says what the run really saw (and staleness compares the
/// upstream's current data version against it).
fn input_provenance(
    definitions: &Definitions,
    upstream: &AssetDefinition,
    planned: &PlannedInput,
    context: &InputContext,
) -> Result<InputProvenance> {
    let loaded = context.loaded_versions();
    let pinned = |partition: Option<&str>| {
        let partition = partition.unwrap_or_default();
        context.as_of().and_then(|_| {
            loaded
                .iter()
                .find(|read| read.partition == partition)
                .and_then(|read| read.data_version.clone())
        })
    };
    let version_of = |partition: Option<&str>| -> Result<String> {
        if let Some(version) = pinned(partition) {
            return Ok(version);
        }
        Ok(definitions
            .records
            .data_version(&upstream.key, partition)?
            .unwrap_or_else(|| NULL_DATA_VERSION.to_owned()))
    };
    let (partitions, data_version) = match &planned.keys {
        None => {
            let version = version_of(None)?;
            (vec![(String::new(), version.clone())], version)
        }
        Some(keys) => {
            let mut found = definitions.records.data_versions(&upstream.key, keys)?;
            let versions: Vec<(String, String)> = keys
                .iter()
                .map(|key| {
                    let version = pinned(Some(key)).or_else(|| found.remove(key));
                    (
                        key.clone(),
                        version.unwrap_or_else(|| NULL_DATA_VERSION.to_owned()),
                    )
                })
                .collect();
            let combined = partitioned_input_data_version(
                versions.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            );
            (versions, combined)
        }
    };
    Ok(InputProvenance {
        asset: upstream.key.components().to_vec(),
        partitions,
        data_version,
        stored_versions: loaded
            .into_iter()
            .map(|read| (read.partition, read.version))
            .collect(),
        as_of: context.as_of().map(|as_of| as_of.to_string()),
    })
}

fn output_context(
    asset: &AssetDefinition,
    task: &Task,
    code_version: &str,
    data_version: &str,
) -> OutputContext {
    let mut builder = OutputContext::builder(asset.key.clone())
        .code_version(code_version)
        .data_version(data_version);
    if let Some(keys) = &task.partitions {
        builder = builder.partition_keys(keys.clone());
    }
    if let Some(window) = task.time_window {
        builder = builder.time_window(window);
    }
    for (key, value) in &asset.metadata {
        builder = builder.definition_metadata(key.clone(), value.clone());
    }
    builder.build()
}

fn store_output(
    definitions: &Definitions,
    asset: &AssetDefinition,
    context: &OutputContext,
    value: OutputValue,
) -> Result<()> {
    let key = &asset.io_manager_key;
    let manager = definitions.managers.io_manager(key)?;
    match value {
        OutputValue::Nothing => Ok(()),
        OutputValue::One(value) => manager.handle_output_erased(key, context, value),
        OutputValue::Partitions(values) => manager.handle_range_output_erased(key, context, values),
    }
}

fn record_failure(run: &TaskRun<'_>, task: &Task, error: &str) -> Result<()> {
    let asset = &run.definitions.assets[task.asset].key;
    let record = FailureRecord {
        run_id: run.run_id.clone(),
        failed_at_micros: Utc::now().timestamp_micros(),
        error: error.to_owned(),
    };
    match &task.partitions {
        None => run.definitions.records.record_failure(asset, None, &record),
        Some(keys) => keys.iter().try_for_each(|key| {
            run.definitions
                .records
                .record_failure(asset, Some(key), &record)
        }),
    }
}
