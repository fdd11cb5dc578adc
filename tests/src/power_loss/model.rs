//! The durable state of the recorded files at one point of the event log:
//! per inode the bytes as of its last sync plus the operations since, and the
//! namespace as of the last directory syncs plus the changes since.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::data::{self, DataOp, OpTally};
use super::event::{Event, EventOp, Outcome};
use super::namespace::{InodeId, Namespace, Node, NsOp};
use super::rng::Rng;
use super::tree::TreeSnapshot;

/// An operation not yet durable, with the number of the event that made it.
#[derive(Debug, Clone)]
pub(crate) struct Pending<T> {
    /// The event's number.
    pub event: u64,
    /// The operation.
    pub op: T,
}

/// One file's contents.
#[derive(Debug, Clone, Default)]
pub(crate) struct Inode {
    /// Bytes and length as of the last successful `sync_data`.
    pub durable: Vec<u8>,
    /// Operations since then, in order.
    pub pending: Vec<Pending<DataOp>>,
}

/// The model, rebuilt by replaying the event log.
#[derive(Debug, Clone, Default)]
pub(crate) struct Model {
    /// Every file ever seen, by inode number.
    pub inodes: Vec<Inode>,
    /// The namespace as the running process sees it.
    live: Namespace,
    /// The namespace as of the last directory syncs.
    pub durable: Namespace,
    /// Namespace changes not yet durable, in order.
    pub pending_ns: Vec<Pending<NsOp>>,
    /// Directories created through the seam.
    pub created_dirs: BTreeSet<PathBuf>,
    /// The last good index copy per index directory, with its event number.
    pub snapshots: BTreeMap<PathBuf, (u64, Arc<TreeSnapshot>)>,
    /// Operations the model could not place (e.g. a write to a file it never
    /// saw created).
    pub anomalies: Vec<String>,
}

impl Model {
    /// The state when recording started: everything under the root durable.
    pub(crate) fn from_initial(initial: &TreeSnapshot) -> Self {
        let mut model = Self::default();
        for dir in &initial.dirs {
            model.durable.insert(dir.clone(), Node::Dir);
        }
        for (path, bytes) in &initial.files {
            let id = model.new_inode(bytes.to_vec());
            model.durable.insert(path.clone(), Node::File(id));
        }
        model.live = model.durable.clone();
        model
    }

    /// Replays `events` (numbered from 0) on top of `initial`. `rng` decides
    /// what a failed `sync_data` left on disk.
    pub(crate) fn replay(initial: &TreeSnapshot, events: &[Event], rng: &mut Rng) -> Self {
        let mut model = Self::from_initial(initial);
        for (number, event) in (0u64..).zip(events) {
            model.apply(number, event, rng);
        }
        model
    }

    fn new_inode(&mut self, durable: Vec<u8>) -> InodeId {
        self.inodes.push(Inode {
            durable,
            pending: Vec::new(),
        });
        self.inodes.len() - 1
    }

    /// Applies event `number`.
    pub(crate) fn apply(&mut self, number: u64, event: &Event, rng: &mut Rng) {
        let ok = event.outcome == Outcome::Ok;
        match &event.op {
            EventOp::Create { path } if ok => self.create(number, path),
            EventOp::Write {
                path,
                offset,
                bytes,
            } if !bytes.is_empty() => {
                let op = DataOp::Write {
                    offset: *offset,
                    bytes: Arc::clone(bytes),
                };
                self.push_data(number, path, op);
            }
            EventOp::SetLen { path, len } if ok => {
                self.push_data(number, path, DataOp::SetLen(*len))
            }
            EventOp::SyncData { path, covers } => {
                self.sync_data(path, *covers, &event.outcome, rng)
            }
            EventOp::Rename { from, to } if ok => {
                let op = NsOp::Rename {
                    from: from.clone(),
                    to: to.clone(),
                };
                self.push_ns(number, op);
            }
            EventOp::RemoveFile { path } if ok => {
                self.push_ns(number, NsOp::Unlink { path: path.clone() });
            }
            EventOp::CreateDir { path } if ok => {
                self.created_dirs.insert(path.clone());
                let op = NsOp::Link {
                    path: path.clone(),
                    node: Node::Dir,
                };
                self.push_ns(number, op);
            }
            EventOp::SyncDir { path, covers } if ok => self.sync_dir(path, *covers),
            EventOp::IndexCheckpoint {
                dir,
                snapshot: Ok(snapshot),
            } => {
                self.snapshots
                    .insert(dir.clone(), (number, Arc::clone(snapshot)));
            }
            _ => {}
        }
    }

    /// `create`: truncates an existing file, or links a new empty one.
    fn create(&mut self, number: u64, path: &Path) {
        match self.live.get(path) {
            Some(Node::File(_)) => self.push_data(number, path, DataOp::SetLen(0)),
            Some(Node::Dir) => self.anomalies.push(format!(
                "event {number}: create over directory {}",
                path.display()
            )),
            None => {
                let id = self.new_inode(Vec::new());
                let op = NsOp::Link {
                    path: path.to_path_buf(),
                    node: Node::File(id),
                };
                self.push_ns(number, op);
            }
        }
    }

    /// The inode `path` names in the live namespace.
    fn live_inode(&mut self, number: u64, path: &Path) -> Option<InodeId> {
        if let Some(Node::File(id)) = self.live.get(path) {
            return Some(*id);
        }
        let why = format!("event {number}: {} is not a known file", path.display());
        self.anomalies.push(why);
        None
    }

    fn push_data(&mut self, number: u64, path: &Path, op: DataOp) {
        if let Some(id) = self.live_inode(number, path) {
            self.inodes[id].pending.push(Pending { event: number, op });
        }
    }

    fn push_ns(&mut self, number: u64, op: NsOp) {
        op.apply(&mut self.live);
        self.pending_ns.push(Pending { event: number, op });
    }

    /// `sync_data` of `path`, covering the events numbered below `covers`.
    /// Success makes them durable; a failure leaves on disk a random part of
    /// them, and the rest is lost for good (the kernel marks the failed pages
    /// clean, so a later sync does not write them).
    fn sync_data(&mut self, path: &Path, covers: u64, outcome: &Outcome, rng: &mut Rng) {
        if *outcome == Outcome::AckedWithoutSync {
            return;
        }
        let Some(Node::File(id)) = self.live.get(path).copied() else {
            return;
        };
        let inode = &mut self.inodes[id];
        let n = inode
            .pending
            .iter()
            .take_while(|p| p.event < covers)
            .count();
        let covered: Vec<DataOp> = inode.pending.drain(..n).map(|p| p.op).collect();
        if *outcome == Outcome::Ok {
            covered.iter().for_each(|op| op.apply(&mut inode.durable));
        } else {
            data::resolve(&mut inode.durable, &covered, rng, &mut OpTally::default());
        }
    }

    /// `sync_dir` of `dir`, covering the events numbered below `covers`.
    fn sync_dir(&mut self, dir: &Path, covers: u64) {
        let (synced, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending_ns)
            .into_iter()
            .partition(|p| p.event < covers && p.op.synced_by(dir));
        for p in synced {
            p.op.apply(&mut self.durable);
        }
        self.pending_ns = rest;
    }
}
