//! What to materialize.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use chrono::{DateTime, Utc};
use tessera_engine::AssetKey;

/// Which assets to materialize.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum AssetSelection {
    /// Every asset.
    #[default]
    All,
    /// These assets only (their upstreams are read from storage).
    Assets(Vec<AssetKey>),
}

/// Which partitions of each selected partitioned asset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PartitionSelection {
    /// All of them (at the request's "now").
    #[default]
    All,
    /// An inclusive range of keys, applied to every selected partitioned asset.
    Range(String, String),
    /// These keys, applied to every selected partitioned asset.
    Keys(Vec<String>),
}

/// A request to materialize: assets, partitions and how to run.
#[derive(Debug, Clone)]
#[must_use]
pub struct MaterializeRequest {
    pub(crate) assets: AssetSelection,
    pub(crate) partitions: PartitionSelection,
    pub(crate) only_missing_or_stale: bool,
    pub(crate) threads: usize,
    pub(crate) now: Option<DateTime<Utc>>,
    pub(crate) cancel: Arc<AtomicBool>,
}

impl Default for MaterializeRequest {
    fn default() -> Self {
        Self {
            assets: AssetSelection::All,
            partitions: PartitionSelection::All,
            only_missing_or_stale: false,
            threads: std::thread::available_parallelism().map_or(1, usize::from),
            now: None,
            cancel: Arc::new(AtomicBool::new(false)),
        }
    }
}

impl MaterializeRequest {
    /// Every asset, every partition, one thread per core.
    pub fn new() -> Self {
        Self::default()
    }

    /// Which assets.
    pub fn assets(mut self, assets: AssetSelection) -> Self {
        self.assets = assets;
        self
    }

    /// Which partitions.
    pub fn partitions(mut self, partitions: PartitionSelection) -> Self {
        self.partitions = partitions;
        self
    }

    /// Only partitions that are missing, failed or stale.
    pub fn only_missing_or_stale(mut self, only: bool) -> Self {
        self.only_missing_or_stale = only;
        self
    }

    /// How many partitions run at once (at least one).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// The instant partitions are evaluated at (the clock's by default).
    pub fn now(mut self, now: DateTime<Utc>) -> Self {
        self.now = Some(now);
        self
    }

    /// A flag that cancels the run when set: no partition starts after it is.
    pub fn cancel_flag(mut self, flag: Arc<AtomicBool>) -> Self {
        self.cancel = flag;
        self
    }
}
