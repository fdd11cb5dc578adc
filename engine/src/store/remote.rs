//! A [`Store`] on object storage: how it opens, commits, refreshes, and
//! fetches evicted log objects on read (the format: [`crate::remote`]).
//!
//! The store's view is the read-only store's: every log object replayed
//! into the overlay (no local index), payloads read from the cached
//! segment files through their mappings. A commit catches up with the log,
//! creates the next log object, and replays it like any other, so every
//! handle's view is a prefix of the one log.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, TryLockError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use bytes::Bytes;
use object_store::ObjectStore;

use super::background::Background;
use super::builder::{StoreBuilder, is_object_store_address};
use super::open::replay_into;
use super::overlay::Overlay;
use super::recovery::RecoveryReport;
use super::refresh::Refresh;
use super::remote_address::object_store_at;
use super::remote_checkpoint::{ViewCheckpoint, checkpoint_id, checkpoint_name};
use super::remote_large::DEFAULT_LARGE_VALUE_THRESHOLD;
use super::{Inner, Store};
use crate::durability::GroupCommit;
use crate::error::{Error, Result};
use crate::format::FORMAT_VERSION;
use crate::index::EmptyIndex;
use crate::index::checkpoint::Checkpoint;
use crate::log::{FrameRef, is_data_object, replay};
use crate::poison::Poison;
use crate::remote::{
    Cache, Client, Created, RetryPolicy, Waiting, encode_log_object, format_bytes, log_object_name,
    object_name, parse_format,
};
use crate::segment::{ChangeFrame, Segment, SegmentSet};

/// Default size limit of the local cache of log objects (1 GiB).
pub const DEFAULT_CACHE_LIMIT: u64 = 1 << 30;

/// Default number of commits between two checkpoint objects.
pub const DEFAULT_REMOTE_CHECKPOINT_EVERY: u64 = 256;

/// Default age a superseded checkpoint object reaches before it is deleted.
pub const DEFAULT_CHECKPOINT_GRACE: Duration = Duration::from_secs(600);

/// Default grace period of garbage collection on object storage: a log
/// object stays at least this long after the first checkpoint that no
/// longer needs it (see [`StoreBuilder::remote_gc_grace`]).
pub const DEFAULT_GC_GRACE: Duration = Duration::from_secs(600);

/// How many times in a row a commit may lose the race for the next log
/// object before it gives up.
const MAX_CONFLICTS: u32 = 1000;

/// What the builder knows about an object-store backend.
#[derive(Clone, Debug)]
pub(super) struct RemoteOptions {
    store: Option<(Arc<dyn ObjectStore>, String)>,
    cache_dir: Option<PathBuf>,
    cache_limit: u64,
    checkpoint_every: u64,
    checkpoint_grace: Duration,
    gc_grace: Duration,
    /// See [`StoreBuilder::remote_large_value_threshold`].
    pub(super) large_value_threshold: u64,
    retry: RetryPolicy,
}

impl Default for RemoteOptions {
    fn default() -> Self {
        Self {
            store: None,
            cache_dir: None,
            cache_limit: DEFAULT_CACHE_LIMIT,
            checkpoint_every: DEFAULT_REMOTE_CHECKPOINT_EVERY,
            checkpoint_grace: DEFAULT_CHECKPOINT_GRACE,
            gc_grace: DEFAULT_GC_GRACE,
            large_value_threshold: DEFAULT_LARGE_VALUE_THRESHOLD,
            retry: RetryPolicy::default(),
        }
    }
}

impl StoreBuilder {
    /// Puts the store on `store` (any [`ObjectStore`]: S3, GCS, Azure, a
    /// local directory, memory), its objects under `prefix`. The builder's
    /// directory then holds the local cache of fetched log objects (see
    /// [`StoreBuilder::cache_dir`]). `Store::builder("s3://bucket/prefix")`
    /// does the same for S3, configured from the standard `AWS_*`
    /// environment variables.
    pub fn object_store(mut self, store: Arc<dyn ObjectStore>, prefix: impl Into<String>) -> Self {
        self.remote.store = Some((store, prefix.into()));
        self
    }

    /// Where a store on object storage caches the log objects it fetched
    /// (default: the builder's directory, or for an `s3://` address
    /// `tessera-cache` in the system's temporary directory). Each store
    /// gets its own subdirectory, named by the id in its `FORMAT` object.
    pub fn cache_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.remote.cache_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// The most bytes of cached log objects a store on object storage keeps
    /// (default [`DEFAULT_CACHE_LIMIT`]); the least recently read are evicted
    /// first, and fetched again when read.
    pub fn cache_limit(mut self, bytes: u64) -> Self {
        self.remote.cache_limit = bytes;
        self
    }

    /// How many commits a store on object storage makes between two
    /// checkpoint objects (default [`DEFAULT_REMOTE_CHECKPOINT_EVERY`], at
    /// least 1): an open reads the latest checkpoint and the log objects
    /// after it. The writer whose commit lands on a multiple writes it.
    pub fn remote_checkpoint_every(mut self, commits: u64) -> Self {
        self.remote.checkpoint_every = commits.max(1);
        self
    }

    /// How old a superseded checkpoint object must be before a writer
    /// deletes it (default [`DEFAULT_CHECKPOINT_GRACE`], 10 minutes). The
    /// two newest are always kept; an open that lists checkpoints and then
    /// reads the newest has this long to read it (and lists again if it is
    /// gone). Log objects follow [`StoreBuilder::remote_gc_grace`].
    pub fn remote_checkpoint_grace(mut self, grace: Duration) -> Self {
        self.remote.checkpoint_grace = grace;
        self
    }

    /// The grace period of garbage collection on object storage (default
    /// [`DEFAULT_GC_GRACE`], 10 minutes): [`Store::compact`] deletes a log
    /// object only once a checkpoint that no longer needs it is this old, so
    /// every object a handle's view needs stays readable for at least this
    /// long after the handle last reached the end of the log (its open, its
    /// last commit or refresh). A handle checks the newest checkpoint again
    /// before it trusts the log's end once half of it has passed since it
    /// last did (one `LIST`). Every handle of a store should use the same
    /// value, far longer than one object-store request, and the clocks of
    /// the machines that compact should agree with the object store's
    /// within half of it (the README's "Beyond one machine" explains why).
    /// A zero grace period collects at once: safe only while no two handles
    /// on different machines or processes write at the same time (tests use
    /// it with one writing handle, or handles taking turns).
    pub fn remote_gc_grace(mut self, grace: Duration) -> Self {
        self.remote.gc_grace = grace;
        self
    }

    /// How object-store calls are retried (tests shorten the waits).
    #[cfg(test)]
    pub(crate) fn object_store_retry(mut self, retry: RetryPolicy) -> Self {
        self.remote.retry = retry;
        self
    }

    /// Whether the store is on object storage.
    pub(super) fn is_remote(&self) -> bool {
        self.remote.store.is_some() || is_object_store_address(&self.dir)
    }
}

/// The object store and local cache behind a [`Store`] on object storage.
pub(super) struct RemoteBackend {
    pub(super) client: Client,
    cache: Cache,
    checkpoint_every: u64,
    checkpoint_grace: Duration,
    /// See [`StoreBuilder::remote_gc_grace`].
    pub(super) gc_grace: Duration,
    log: Mutex<LogState>,
    /// This handle's id, in the header of the log and data objects it creates.
    pub(super) writer_id: u64,
    /// See [`StoreBuilder::remote_large_value_threshold`].
    pub(super) large_value_threshold: u64,
    /// When the uploads of the data objects not yet committed began.
    pub(super) uploads: Mutex<HashMap<u64, Instant>>,
    /// Batches waiting for the commit in flight to finish (group commit).
    waiting: Mutex<Vec<Arc<Waiting>>>,
    /// Every log object below this number has been read.
    pub(super) read_below: AtomicU64,
}

/// How far this handle has read the log.
pub(super) struct LogState {
    /// The next log object to read (or to create).
    pub(super) next_id: u64,
    /// The commit frame of the last batch read.
    pub(super) after: Option<FrameRef>,
    /// Until when a log object found missing at `next_id` or after is the
    /// end of the log, not one garbage collection deleted (see
    /// [`RemoteBackend::ensure_fresh`]).
    pub(super) fresh_until: Instant,
}

/// Opens (or creates) the store on object storage the builder names.
pub(super) fn open(builder: StoreBuilder) -> Result<Store> {
    let (store, prefix, default_cache) = match &builder.remote.store {
        Some((store, prefix)) => (Arc::clone(store), prefix.clone(), builder.dir.clone()),
        None => {
            let address = builder.dir.to_string_lossy();
            let (store, prefix) = object_store_at(&address)?;
            (store, prefix, std::env::temp_dir().join("tessera-cache"))
        }
    };
    let client = Client::new(store, &prefix, builder.remote.retry)?;
    let store_id = store_id(&client, builder.read_only)?;
    let cache_root = builder.remote.cache_dir.clone().unwrap_or(default_cache);
    let cache = Cache::open(&cache_root.join(&store_id), builder.remote.cache_limit)?;
    let poison = Arc::new(Poison::default());
    let segments = SegmentSet::open(
        cache.dir(),
        Arc::clone(&builder.io),
        Arc::clone(&poison),
        builder.segment_capacity,
        false,
    )?;
    let listed_at = Instant::now();
    let fresh_until = listed_at + builder.remote.gc_grace / 2;
    let (overlay, state) = match latest_checkpoint(&client)? {
        Some((id, checkpoint)) => (
            Overlay::from_entries(checkpoint.entries),
            LogState {
                next_id: id + 1,
                after: Some(checkpoint.after),
                fresh_until,
            },
        ),
        None => (
            Overlay::default(),
            LogState {
                next_id: 1,
                after: None,
                fresh_until,
            },
        ),
    };
    let backend = RemoteBackend {
        client,
        cache,
        checkpoint_every: builder.remote.checkpoint_every,
        checkpoint_grace: builder.remote.checkpoint_grace,
        gc_grace: builder.remote.gc_grace,
        read_below: AtomicU64::new(state.next_id),
        log: Mutex::new(state),
        waiting: Mutex::default(),
        writer_id: random_u64(),
        large_value_threshold: builder.remote.large_value_threshold,
        uploads: Mutex::default(),
    };
    let mut inner = Inner {
        dir: backend.cache.dir().to_path_buf(),
        io: builder.io,
        index_kind: builder.index.unwrap_or_default(),
        index: RwLock::new(Box::new(EmptyIndex)),
        overlay,
        segments,
        poison,
        durability: builder.durability,
        verify_checksums: builder.verify_checksums,
        read_only: builder.read_only,
        checkpoint_every: usize::MAX,
        retry_checkpoint_at: AtomicUsize::new(0),
        broken: None,
        segment_sync: GroupCommit::default(),
        checkpoint: Mutex::new(Checkpoint::default()),
        recovery: RecoveryReport::default(),
        retention: builder.retention,
        clock: builder.clock,
        segment_capacity: builder.segment_capacity,
        compaction: builder.compaction,
        compaction_running: Mutex::new(()),
        background: Background::default(),
        position: Mutex::default(),
        opened_by: std::process::id(),
        _lock: None,
        remote: None,
    };
    let batches = backend.catch_up(&inner, &mut backend.lock())?;
    inner.recovery.replayed_batches = batches;
    inner.remote = Some(backend);
    Ok(Store {
        inner: Arc::new(inner),
    })
}

/// The newest checkpoint object and the log object it stands after, if any.
/// A reader that finds the newest checkpoint it listed gone (collected after
/// two newer ones appeared and the grace period passed) lists again, this
/// many times in all.
const CHECKPOINT_LISTINGS: u32 = 3;

pub(super) fn latest_checkpoint(client: &Client) -> Result<Option<(u64, ViewCheckpoint)>> {
    for _ in 0..CHECKPOINT_LISTINGS {
        let newest = client
            .list("checkpoint")?
            .iter()
            .filter_map(|listed| checkpoint_id(&listed.name))
            .max();
        let Some(id) = newest else {
            return Ok(None);
        };
        if let Some(bytes) = client.get(&checkpoint_name(id))? {
            return decode_checkpoint(client, id, &bytes).map(Some);
        }
    }
    Err(Error::ObjectStore {
        operation: "read checkpoint",
        object: client.describe(),
        reason: format!(
            "the newest checkpoint listed was gone each of {CHECKPOINT_LISTINGS} times"
        ),
    })
}

/// Decodes and checks checkpoint object `id`.
pub(super) fn decode_checkpoint(
    client: &Client,
    id: u64,
    bytes: &[u8],
) -> Result<(u64, ViewCheckpoint)> {
    let name = checkpoint_name(id);
    let corrupt = |reason: String| Error::CorruptObject {
        object: client.path(&name).to_string(),
        reason,
    };
    let checkpoint = ViewCheckpoint::decode(bytes).map_err(corrupt)?;
    if checkpoint.after.segment != id {
        return Err(corrupt(format!(
            "it stands after log object {}, not {id}",
            checkpoint.after.segment
        )));
    }
    Ok((id, checkpoint))
}

/// The id in the store's `FORMAT` object, created if the store is new.
fn store_id(client: &Client, read_only: bool) -> Result<String> {
    let name = crate::remote::FORMAT_OBJECT;
    let bytes = match client.get(name)? {
        Some(bytes) => bytes,
        None if read_only => {
            return Err(Error::NotAStore {
                path: PathBuf::from(client.describe()),
            });
        }
        None => {
            let ours = Bytes::from(format_bytes(&new_store_id()));
            match client.create(name, &ours)? {
                Created::Ours => ours,
                Created::Taken(theirs) => theirs,
            }
        }
    };
    let object = client.path(name).to_string();
    let (version, id) = parse_format(&bytes).map_err(|reason| Error::CorruptObject {
        object: object.clone(),
        reason,
    })?;
    if version != FORMAT_VERSION {
        return Err(Error::UnsupportedFormat {
            path: PathBuf::from(object),
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    Ok(id)
}

/// A fresh store id: 16 hex digits of [`random_u64`].
fn new_store_id() -> String {
    format!("{:016x}", random_u64())
}

/// A random number from a fresh set of the process's random hash keys, the
/// time and the process id (ids, not secrets).
pub(super) fn random_u64() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    hasher.write_u128(nanos);
    hasher.write_u32(std::process::id());
    hasher.finish()
}

/// Checks that log object `segment` holds whole committed batches only,
/// every frame sound and every payload passing its crc32, its sequence
/// numbers after `after` (any, if `None`); `Err` says what is wrong.
pub(super) fn check_whole(
    segment: &Arc<Segment>,
    after: Option<FrameRef>,
) -> std::result::Result<(), String> {
    let scan = replay(std::slice::from_ref(segment), after, true, |_| {}).map_err(|e| e.0)?;
    let end = scan.ends.first();
    if let Some(reason) = end.and_then(|e| e.stopped) {
        return Err(reason.to_owned());
    }
    let whole = end.is_some_and(|e| e.committed_end == segment.mapped_len());
    if scan.batches == 0 || !whole {
        return Err("the object is not whole committed batches".into());
    }
    Ok(())
}

impl RemoteBackend {
    pub(super) fn lock(&self) -> MutexGuard<'_, LogState> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads every log object after the last one read, in order, into the
    /// store's view (first loading the newest checkpoint instead if garbage
    /// collection may have deleted the next ones); returns how many.
    pub(super) fn catch_up(&self, inner: &Inner, state: &mut LogState) -> Result<u64> {
        self.ensure_fresh(inner, state)?;
        let mut batches = 0;
        while let Some(segment) = self.fetch(inner, state.next_id)? {
            self.apply(inner, state, &segment)?;
            batches += 1;
        }
        Ok(batches)
    }

    /// Log object (or data object) `id` mapped: from the set, the cache, or
    /// the object store (then cached); `None` if the store has no object `id`.
    pub(super) fn fetch(&self, inner: &Inner, id: u64) -> Result<Option<Arc<Segment>>> {
        if let Some(segment) = inner.segments.get(id) {
            self.cache.touch(id);
            return Ok(Some(segment));
        }
        let segment = match self.cache.load(id)? {
            Some(segment) => segment,
            None => match self.client.get(&object_name(id))? {
                Some(bytes) => self.cache.insert(id, &bytes)?,
                None => return Ok(None),
            },
        };
        Ok(Some(self.install(inner, segment)))
    }

    /// Puts a freshly mapped log object in the store's set and evicts what
    /// the cache limit asks for (never this object).
    fn install(&self, inner: &Inner, segment: Segment) -> Arc<Segment> {
        let segment = Arc::new(segment);
        inner.segments.install(Arc::clone(&segment));
        let evicted = self.cache.evict(segment.id());
        if !evicted.is_empty() {
            inner.segments.keep_only(&|id| !evicted.contains(&id));
        }
        segment
    }

    /// Replays log object `segment` (the next one) into the store's view.
    /// It must hold whole committed batches only, every frame sound, its
    /// sequence numbers after the last batch read: it is checked whole
    /// before anything of it is applied.
    fn apply(&self, inner: &Inner, state: &mut LogState, segment: &Arc<Segment>) -> Result<()> {
        let id = segment.id();
        if let Err(reason) = check_whole(segment, state.after) {
            return Err(Error::CorruptObject {
                object: self.client.path(&log_object_name(id)).to_string(),
                reason,
            });
        }
        let segments = std::slice::from_ref(segment);
        let scan = replay_into(segments, &inner.overlay, None, state.after, false)?;
        state.after = scan.last_committed;
        state.next_id = id + 1;
        self.read_below.store(state.next_id, Ordering::Release);
        Ok(())
    }

    /// Commits one batch as the next log object after the last one read:
    /// one conditional create. If another writer took the number first,
    /// its object (which the failed create read back) and any after it are
    /// read, and the batch, renumbered, tries the next number. A create
    /// succeeds only at the number after every object read, so the writer
    /// has seen every commit before its own.
    ///
    /// Batches that arrive while a commit is in flight wait (copied) and go
    /// together in the next log object, each its own atomic batch: the
    /// writer that takes the log next commits them all. A waiting batch whose
    /// group failed gets [`Error::ObjectStore`] with the failure's message.
    ///
    /// Payloads of at least the large-value threshold are uploaded first,
    /// each as its own data object, and committed as external puts.
    pub(super) fn commit(&self, inner: &Inner, changes: &[ChangeFrame<'_>]) -> Result<()> {
        let uploaded = self.upload_large(changes)?;
        let frames = uploaded.frames(changes);
        let committed = self.commit_grouped(inner, &frames);
        self.forget_uploads(&uploaded);
        committed
    }

    /// Commits `changes` alone or with the batches waiting (see
    /// [`RemoteBackend::commit`]).
    fn commit_grouped(&self, inner: &Inner, changes: &[ChangeFrame<'_>]) -> Result<()> {
        if let Some(mut state) = self.try_lock() {
            return self.commit_group(inner, &mut state, Some(changes));
        }
        let waiting = Arc::new(Waiting::new(changes));
        self.waiting().push(Arc::clone(&waiting));
        let mut state = self.lock();
        if waiting.outcome().is_none() {
            // Every commit before this one has finished without it: it is
            // still waiting, and this writer commits the group.
            self.commit_group(inner, &mut state, None)?;
        }
        drop(state);
        match waiting.outcome() {
            Some(Ok(())) => Ok(()),
            Some(Err(reason)) => Err(Error::ObjectStore {
                operation: "commit",
                object: self.client.describe(),
                reason,
            }),
            None => Err(Error::ObjectStore {
                operation: "commit",
                object: self.client.describe(),
                reason: "the batch was left out of every group commit".into(),
            }),
        }
    }

    fn try_lock(&self) -> Option<MutexGuard<'_, LogState>> {
        match self.log.try_lock() {
            Ok(state) => Some(state),
            Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        }
    }

    fn waiting(&self) -> MutexGuard<'_, Vec<Arc<Waiting>>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Commits `own` (the calling writer's batch, if it did not wait) and
    /// every waiting batch in one log object, and tells the waiting writers
    /// how it went.
    fn commit_group(
        &self,
        inner: &Inner,
        state: &mut LogState,
        own: Option<&[ChangeFrame<'_>]>,
    ) -> Result<()> {
        let queued = std::mem::take(&mut *self.waiting());
        let frames: Vec<Vec<ChangeFrame<'_>>> = queued.iter().map(|w| w.frames()).collect();
        let mut batches: Vec<&[ChangeFrame<'_>]> = own.into_iter().collect();
        batches.extend(frames.iter().map(Vec::as_slice));
        let outcome = self.commit_batches(inner, state, &batches);
        let shared = outcome.as_ref().map(drop).map_err(ToString::to_string);
        for waiting in &queued {
            waiting.finish(shared.clone());
        }
        outcome
    }

    /// Commits `batches` as the next log object (see [`RemoteBackend::commit`]).
    pub(super) fn commit_batches(
        &self,
        inner: &Inner,
        state: &mut LogState,
        batches: &[&[ChangeFrame<'_>]],
    ) -> Result<()> {
        for _ in 0..MAX_CONFLICTS {
            self.ensure_fresh(inner, state)?;
            let id = state.next_id;
            self.check_uploads_fresh(batches)?;
            let first_seq = state.after.map_or(1, |at| at.seq + 1);
            let ours = Bytes::from(encode_log_object(id, self.writer_id, first_seq, batches));
            let (bytes, committed) = match self.client.create(&log_object_name(id), &ours)? {
                Created::Ours => (ours, true),
                Created::Taken(theirs) => (theirs, false),
            };
            let segment = self.install(inner, self.cache.insert(id, &bytes)?);
            self.apply(inner, state, &segment)?;
            if committed {
                if id.is_multiple_of(self.checkpoint_every)
                    && let Err(error) = self.write_checkpoint(inner, state)
                {
                    log::warn!(
                        "{}: writing the checkpoint after log object {id} failed (opens read \
                         the log from the previous one): {error}",
                        self.client.describe()
                    );
                }
                return Ok(());
            }
            log::debug!("log object {id} was taken by another writer; retrying after it");
            self.catch_up(inner, state)?;
        }
        Err(Error::ObjectStore {
            operation: "commit",
            object: self.client.describe(),
            reason: format!("lost the race for the next log object {MAX_CONFLICTS} times in a row"),
        })
    }

    /// Writes the checkpoint of the view after the last log object read
    /// (the log lock held: nothing else changes the view meanwhile), unless
    /// one is there already. A commit only logs its failure: the commit is
    /// in the log, and a missing checkpoint only makes opens read more of it.
    pub(super) fn write_checkpoint(&self, inner: &Inner, state: &LogState) -> Result<()> {
        let Some(after) = state.after else {
            return Ok(());
        };
        let checkpoint = ViewCheckpoint {
            after,
            entries: inner.retained_view().into_iter().collect(),
        };
        let name = checkpoint_name(after.segment);
        self.client
            .create(&name, &Bytes::from(checkpoint.encode()))?;
        if let Err(error) = self.collect_checkpoints() {
            log::warn!(
                "{}: deleting superseded checkpoints failed (the next checkpoint tries \
                 again): {error}",
                self.client.describe()
            );
        }
        Ok(())
    }

    /// Deletes the checkpoint objects older than the two newest that have
    /// been superseded for longer than the grace period.
    fn collect_checkpoints(&self) -> Result<()> {
        let mut listed: Vec<(u64, DateTime<Utc>)> = self
            .client
            .list("checkpoint")?
            .into_iter()
            .filter_map(|listed| checkpoint_id(&listed.name).map(|id| (id, listed.modified)))
            .collect();
        listed.sort_unstable();
        let grace =
            chrono::TimeDelta::from_std(self.checkpoint_grace).unwrap_or(chrono::TimeDelta::MAX);
        let now = Utc::now();
        let superseded = listed.len().saturating_sub(2);
        for &(id, modified) in &listed[..superseded] {
            if modified + grace <= now {
                self.client.delete(&checkpoint_name(id))?;
            }
        }
        Ok(())
    }

    /// Catches up with the log and writes the checkpoint after its last
    /// object: [`Store::checkpoint`] of a store on object storage.
    pub(super) fn checkpoint(&self, inner: &Inner) -> Result<()> {
        let mut state = self.lock();
        self.catch_up(inner, &mut state)?;
        self.write_checkpoint(inner, &state)
    }

    /// Catches up with the log: [`Store::refresh`] of a store on object storage.
    /// A view that fell behind the collected part of the log is replaced by
    /// the newest checkpoint's first ([`Refresh::Reloaded`]).
    pub(super) fn refresh(&self, inner: &Inner) -> Result<Refresh> {
        let mut state = self.lock();
        let loaded = self.ensure_fresh(inner, &mut state)?;
        let batches = self.catch_up(inner, &mut state)?;
        Ok(match loaded {
            Some(id) => Refresh::Reloaded {
                reason: format!(
                    "the log objects before checkpoint {id} may have been garbage-collected: \
                     the view was loaded from it"
                ),
            },
            None if batches == 0 => Refresh::Unchanged,
            None => Refresh::CaughtUp { batches },
        })
    }

    /// Log object `id` for a read: mapped, or fetched again after eviction.
    ///
    /// An object the view needs that is gone was deleted by garbage
    /// collection after this handle's view fell behind the log for longer
    /// than the grace period: the handle catches up (when no commit or
    /// refresh of its own holds the log), and `None` sends the read to look
    /// its key up again in the caught-up view.
    pub(super) fn segment(&self, inner: &Inner, id: u64) -> Result<Option<Arc<Segment>>> {
        if let Some(segment) = inner.segments.get(id) {
            self.cache.touch(id);
            return Ok(Some(segment));
        }
        if !is_data_object(id) && id >= self.read_below.load(Ordering::Acquire) {
            return Ok(None);
        }
        let fetched = self.fetch(inner, id)?;
        if fetched.is_none()
            && let Some(mut state) = self.try_lock()
        {
            log::info!(
                "{}: log object {id} was collected; catching up",
                self.client.describe()
            );
            state.fresh_until = Instant::now();
            self.catch_up(inner, &mut state)?;
        }
        Ok(fetched)
    }

    /// The cache (tests look at it).
    #[cfg(test)]
    pub(super) fn cache(&self) -> &Cache {
        &self.cache
    }
}

impl Store {
    /// The local cache of a store on object storage (tests look at it).
    #[cfg(test)]
    pub(crate) fn remote_cache(&self) -> Option<&Cache> {
        self.inner.remote.as_ref().map(RemoteBackend::cache)
    }
}
