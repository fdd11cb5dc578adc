//! The bundled example pipeline, modelled on Dagster's weather example: a
//! daily `weather_obs` asset of synthetic observations, a daily
//! `rolling_7d_stats` that reads the 7 days ending on its day through a time
//! window mapping (fewer at the start of the definition, or where upstream
//! days were never materialized: those are skipped and counted), and an
//! unpartitioned `summary` over every rolling day.

mod rolling;
mod summary;
mod weather;

use std::sync::Arc;

use tessera_engine::{AssetKey, Store};

use crate::ArrowIoManager;
use crate::error::Result;
use crate::executor::{AssetDefinition, AssetInput, DEFAULT_IO_MANAGER_KEY, Definitions};
use crate::manager::IoManagers;
use crate::partitions::{PartitionMapping, TimeWindowPartitionsDefinition};

pub use rolling::{StationStats, rolling_stats};
pub use weather::{OBSERVATIONS_PER_DAY, STATIONS, weather_observations};

/// The first day of the example's daily partitions.
pub const START_DATE: &str = "2024-01-01";

/// The key of the observations asset: `public/weather_obs`.
///
/// # Errors
/// Never in practice (the components are valid).
pub fn weather_obs_key() -> Result<AssetKey> {
    Ok(AssetKey::new(["public", "weather_obs"])?)
}

/// The key of the rolling statistics asset: `public/rolling_7d_stats`.
///
/// # Errors
/// Never in practice.
pub fn rolling_7d_stats_key() -> Result<AssetKey> {
    Ok(AssetKey::new(["public", "rolling_7d_stats"])?)
}

/// The key of the summary asset: `public/summary`.
///
/// # Errors
/// Never in practice.
pub fn summary_key() -> Result<AssetKey> {
    Ok(AssetKey::new(["public", "summary"])?)
}

/// The pipeline's definitions over `store`, every asset stored by an
/// [`ArrowIoManager`] on that store.
///
/// # Errors
/// The validation errors of [`Definitions`] (none for this pipeline).
pub fn definitions(store: Arc<Store>) -> Result<Definitions> {
    let daily = TimeWindowPartitionsDefinition::daily(START_DATE)?;
    let weather = AssetDefinition::new(AssetKey::new(["weather_obs"])?, weather::compute)
        .key_prefix(["public"])?
        .partitions(daily.clone())
        .code_version("1")
        .metadata("description", "synthetic observations, 10 stations");
    let rolling = AssetDefinition::new(AssetKey::new(["rolling_7d_stats"])?, rolling::compute)
        .key_prefix(["public"])?
        .partitions(daily)
        .code_version("1")
        .input(
            AssetInput::new("weather_obs", weather_obs_key()?)
                .mapping(PartitionMapping::TimeWindow {
                    start_offset: -6,
                    end_offset: 0,
                    allow_nonexistent_upstream_partitions: true,
                })
                .columns(["station", "temperature_c"])
                .allow_missing_partitions(true),
        );
    let summary = AssetDefinition::new(AssetKey::new(["summary"])?, summary::compute)
        .key_prefix(["public"])?
        .code_version("1")
        .input(
            AssetInput::new("rolling_7d_stats", rolling_7d_stats_key()?)
                .allow_missing_partitions(true),
        );
    Definitions::builder(store.clone())
        .asset(weather)
        .asset(rolling)
        .asset(summary)
        .managers(
            IoManagers::new().with_io_manager(DEFAULT_IO_MANAGER_KEY, ArrowIoManager::new(store)),
        )
        .build()
}
