//! [`RecordingFileIo`]: performs a store's file operations on the real file
//! system and records each one in an ordered event log.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use tessera_engine::io::{FileIo, OsFileIo};

use super::crash_image::{CrashImage, IndexChoice};
use super::event::{Event, EventOp, OpKind, Outcome};
use super::fault::{Fault, FaultPlan};
use super::history::History;
use super::tree::TreeSnapshot;

/// How the recorder treats syncs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    /// Syncs call the operating system and, in the model, make data durable.
    #[default]
    Honest,
    /// A deliberately broken seam: `sync_data` and `sync_dir` return `Ok`
    /// without syncing, and nothing becomes durable. A crash test run against
    /// it must report violations.
    AckWithoutSync,
}

/// Mode and faults, changed by the test while the store runs.
#[derive(Debug, Default)]
struct Control {
    mode: Mode,
    faults: FaultPlan,
}

/// A [`FileIo`] that performs every operation on the real file system (as
/// [`OsFileIo`] does) and records it, for rebuilding the states a power loss
/// may leave ([`History::crash_image`]). It can also fail chosen calls
/// ([`Fault`]) and fake syncs ([`Mode::AckWithoutSync`]).
///
/// Share it as an `Arc`: one clone goes to the store, the test keeps another.
/// Every path the store passes must lie under the root given to
/// [`RecordingFileIo::new`]; events name paths relative to it.
#[derive(Debug)]
pub struct RecordingFileIo {
    root: PathBuf,
    canonical_root: Option<PathBuf>,
    initial: Arc<TreeSnapshot>,
    events: Mutex<Vec<Event>>,
    control: Mutex<Control>,
}

/// Locks `mutex`, ignoring poisoning: a panicking test thread leaves the log
/// consistent, since every update is a single push.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl RecordingFileIo {
    /// A recorder for stores under `root`. Whatever `root` already holds is
    /// taken as durable (it is usually empty or missing).
    ///
    /// # Errors
    /// Reading the existing files under `root` failed.
    pub fn new(root: impl Into<PathBuf>) -> io::Result<Self> {
        let root = root.into();
        Ok(Self {
            canonical_root: root.canonicalize().ok(),
            initial: Arc::new(TreeSnapshot::read(&root)?),
            root,
            events: Mutex::default(),
            control: Mutex::default(),
        })
    }

    /// The root directory.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Switches how syncs behave from the next call on.
    pub fn set_mode(&self, mode: Mode) {
        lock(&self.control).mode = mode;
    }

    /// The current mode.
    #[must_use]
    pub fn mode(&self) -> Mode {
        lock(&self.control).mode
    }

    /// Arms `fault`: its `nth` call counts from the calls made so far. If two
    /// faults aim at the same call, only the first one injected fires.
    pub fn inject(&self, fault: Fault) {
        lock(&self.control).faults.inject(fault);
    }

    /// How many calls of kind `op` were made so far (failed ones included).
    #[must_use]
    pub fn calls(&self, op: OpKind) -> u64 {
        lock(&self.control).faults.calls(op)
    }

    /// How many injected faults have not fired yet.
    #[must_use]
    pub fn armed_faults(&self) -> usize {
        lock(&self.control).faults.armed()
    }

    /// Records a test's own event (say, "put k1 acknowledged") and returns
    /// its number. A crash at a later event happened after it.
    pub fn mark(&self, label: impl Into<String>) -> u64 {
        let op = EventOp::Mark {
            label: label.into(),
        };
        self.record(op, Outcome::Ok)
    }

    /// The number of events recorded so far (the next event's number).
    #[must_use]
    pub fn events_len(&self) -> u64 {
        lock(&self.events).len() as u64
    }

    /// A copy of the event log.
    #[must_use]
    pub fn events(&self) -> Vec<Event> {
        lock(&self.events).clone()
    }

    /// The numbers of the sync events so far.
    #[must_use]
    pub fn sync_points(&self) -> Vec<u64> {
        (0u64..)
            .zip(lock(&self.events).iter())
            .filter(|(_, e)| e.is_sync_point())
            .map(|(n, _)| n)
            .collect()
    }

    /// A frozen copy of the log so far, to build crash images from (cheap:
    /// written bytes are shared, not copied).
    #[must_use]
    pub fn history(&self) -> History {
        History::new(Arc::clone(&self.initial), self.events())
    }

    /// Writes a crash image of the log so far; see [`History::crash_image`].
    /// For many images, take one [`RecordingFileIo::history`] and use it.
    ///
    /// # Errors
    /// As [`History::crash_image`].
    pub fn crash_image(
        &self,
        at_event: u64,
        seed: u64,
        index: IndexChoice,
        target_dir: &Path,
    ) -> io::Result<CrashImage> {
        self.history()
            .crash_image(at_event, seed, index, target_dir)
    }

    /// Appends an event and returns its number.
    fn record(&self, op: EventOp, outcome: Outcome) -> u64 {
        let mut events = lock(&self.events);
        events.push(Event { op, outcome });
        events.len() as u64 - 1
    }

    /// `path` relative to the root.
    fn rel(&self, path: &Path) -> io::Result<PathBuf> {
        let under = |root: &Path| path.strip_prefix(root).ok().map(Path::to_path_buf);
        under(&self.root)
            .or_else(|| self.canonical_root.as_deref().and_then(under))
            .ok_or_else(|| {
                let why = format!(
                    "RecordingFileIo: {} is outside the root {}",
                    path.display(),
                    self.root.display()
                );
                io::Error::new(io::ErrorKind::InvalidInput, why)
            })
    }

    /// Counts a call of `op`; returns the fault it triggers, if any, and the
    /// mode.
    fn fault(&self, op: OpKind) -> (Option<Fault>, Mode) {
        let mut control = lock(&self.control);
        (control.faults.on_call(op), control.mode)
    }

    /// Records `op` with the outcome of `result`, and returns `result`.
    fn finish<T>(&self, op: EventOp, result: io::Result<T>) -> io::Result<T> {
        let outcome = result
            .as_ref()
            .map_or_else(Outcome::failed, |_| Outcome::Ok);
        self.record(op, outcome);
        result
    }

    /// Runs `real` unless a fault fires for this call of `kind`, and records
    /// `op` with the outcome.
    fn run<T>(
        &self,
        kind: OpKind,
        op: EventOp,
        real: impl FnOnce() -> io::Result<T>,
    ) -> io::Result<T> {
        let result = match self.fault(kind).0 {
            Some(fault) => Err(fault.error.to_io_error()),
            None => real(),
        };
        self.finish(op, result)
    }

    /// A sync: an injected fault wins, then [`Mode::AckWithoutSync`] skips
    /// the real sync.
    fn sync(
        &self,
        kind: OpKind,
        op: EventOp,
        real: impl FnOnce() -> io::Result<()>,
    ) -> io::Result<()> {
        let result = match self.fault(kind) {
            (Some(fault), _) => Err(fault.error.to_io_error()),
            (None, Mode::AckWithoutSync) => {
                self.record(op, Outcome::AckedWithoutSync);
                return Ok(());
            }
            (None, Mode::Honest) => real(),
        };
        self.finish(op, result)
    }
}

impl FileIo for RecordingFileIo {
    fn create(&self, path: &Path) -> io::Result<File> {
        let op = EventOp::Create {
            path: self.rel(path)?,
        };
        self.run(OpKind::Create, op, || OsFileIo.create(path))
    }

    fn write_at(&self, file: &File, path: &Path, bytes: &[u8], offset: u64) -> io::Result<()> {
        let rel = self.rel(path)?;
        let (result, written) = match self.fault(OpKind::WriteAt).0 {
            Some(fault) => {
                let prefix = &bytes[..fault.written_prefix.min(bytes.len())];
                // The injected error wins even if writing the prefix fails.
                let _ = OsFileIo.write_at(file, path, prefix, offset);
                (Err(fault.error.to_io_error()), prefix)
            }
            // After a real error any part of `bytes` may have been written.
            None => (OsFileIo.write_at(file, path, bytes, offset), bytes),
        };
        let op = EventOp::Write {
            path: rel,
            offset,
            bytes: written.into(),
        };
        self.finish(op, result)
    }

    fn set_len(&self, file: &File, path: &Path, len: u64) -> io::Result<()> {
        let op = EventOp::SetLen {
            path: self.rel(path)?,
            len,
        };
        self.run(OpKind::SetLen, op, || OsFileIo.set_len(file, path, len))
    }

    fn sync_data(&self, file: &File, path: &Path) -> io::Result<()> {
        let op = EventOp::SyncData {
            path: self.rel(path)?,
            covers: self.events_len(),
        };
        self.sync(OpKind::SyncData, op, || OsFileIo.sync_data(file, path))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let op = EventOp::Rename {
            from: self.rel(from)?,
            to: self.rel(to)?,
        };
        self.run(OpKind::Rename, op, || OsFileIo.rename(from, to))
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        let op = EventOp::RemoveFile {
            path: self.rel(path)?,
        };
        self.run(OpKind::RemoveFile, op, || OsFileIo.remove_file(path))
    }

    fn create_dir(&self, path: &Path) -> io::Result<()> {
        let op = EventOp::CreateDir {
            path: self.rel(path)?,
        };
        self.run(OpKind::CreateDir, op, || OsFileIo.create_dir(path))
    }

    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        let op = EventOp::SyncDir {
            path: self.rel(path)?,
            covers: self.events_len(),
        };
        self.sync(OpKind::SyncDir, op, || OsFileIo.sync_dir(path))
    }

    fn index_checkpointed(&self, index_dir: &Path) {
        let (dir, snapshot) = match self.rel(index_dir) {
            Ok(rel) => {
                let copy = TreeSnapshot::read(index_dir).map(Arc::new);
                (rel, copy.map_err(|e| e.to_string()))
            }
            Err(e) => (index_dir.to_path_buf(), Err(e.to_string())),
        };
        self.record(EventOp::IndexCheckpoint { dir, snapshot }, Outcome::Ok);
    }
}
