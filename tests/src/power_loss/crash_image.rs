//! Materializing a crash state: the files, directories and index a power
//! loss at a chosen event may leave, written into a directory.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::data::{self, DataOp, OpTally, Selection};
use super::history::History;
use super::model::{Inode, Model};
use super::namespace::{self, InodeId, Namespace, Node};
use super::rng::Rng;
use super::tree;

/// Which index a crash image gets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IndexChoice {
    /// The copy taken at the last index checkpoint before the crash; no index
    /// if there was none.
    #[default]
    LastCheckpoint,
    /// No index files at all (the index directory itself stays if it was
    /// created through the seam and survived).
    Lost,
    /// One of the two, chosen by the seed.
    Random,
}

/// What [`History::crash_image`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrashImage {
    /// The crash point: events numbered below it had happened.
    pub at_event: u64,
    /// The seed that chose among the possible states.
    pub seed: u64,
    /// Regular files written (relative to the image root), index copies not
    /// included.
    pub files: Vec<PathBuf>,
    /// Directories the model knew of and wrote.
    pub dirs: Vec<PathBuf>,
    /// Index copies written: the index directory and the number of the
    /// checkpoint event it was taken at.
    pub indexes: Vec<(PathBuf, u64)>,
    /// What became of the namespace changes not yet made durable by a
    /// directory sync (never torn).
    pub namespace_ops: OpTally,
    /// What became of the data operations not yet made durable by a
    /// `sync_data`, over the files written.
    pub data_ops: OpTally,
    /// Events the model could not place, such as a write to a file it never
    /// saw created; a test would usually assert there are none.
    pub anomalies: Vec<String>,
}

impl fmt::Display for CrashImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (ns, data) = (self.namespace_ops, self.data_ops);
        write!(
            f,
            "crash at event {} seed {}: {} files; pending namespace ops kept {} dropped {}; \
             pending data ops kept {} dropped {} torn {}; index {:?}",
            self.at_event,
            self.seed,
            self.files.len(),
            ns.kept,
            ns.dropped,
            data.kept,
            data.dropped,
            data.torn,
            self.indexes,
        )?;
        if !self.anomalies.is_empty() {
            write!(f, "; anomalies {:?}", self.anomalies)?;
        }
        Ok(())
    }
}

impl History {
    /// Writes into `target_dir` (missing or empty; it stands for the
    /// recorder's root) one state that a power loss at event `at_event` may
    /// leave: the events numbered below `at_event` had happened, the rest had
    /// not. Namespace changes not yet made durable by a directory sync are
    /// each kept or lost (in order); data operations not yet made durable by
    /// a `sync_data` are each kept, lost or torn at 512-byte or 4 KiB file
    /// boundaries, each torn piece kept, lost, zeroed or garbage. The same
    /// `(at_event, seed)` always gives the same image.
    ///
    /// # Errors
    /// `at_event` is past the end of the log (`InvalidInput`), `target_dir`
    /// is not empty (`AlreadyExists`), or writing the image failed.
    pub fn crash_image(
        &self,
        at_event: u64,
        seed: u64,
        index: IndexChoice,
        target_dir: &Path,
    ) -> io::Result<CrashImage> {
        let end = usize::try_from(at_event)
            .ok()
            .filter(|&end| end <= self.events.len())
            .ok_or_else(|| {
                let why = format!("crash point {at_event} is past the {} events", self.len());
                io::Error::new(io::ErrorKind::InvalidInput, why)
            })?;
        prepare_target(target_dir)?;
        let mut rng = Rng::new(seed ^ at_event.wrapping_mul(0xA24B_AED4_963E_E407));
        let model = Model::replay(&self.initial, &self.events[..end], &mut rng);
        let mut writer = ImageWriter {
            model: &model,
            rng,
            target: target_dir,
            contents: BTreeMap::new(),
            image: CrashImage {
                at_event,
                seed,
                anomalies: model.anomalies.clone(),
                ..CrashImage::default()
            },
        };
        let ns = writer.crash_namespace();
        writer.write_namespace(&ns, self)?;
        writer.write_indexes(&ns, self, index)?;
        Ok(writer.image)
    }
}

/// Creates `target` unless it exists; refuses a non-empty one.
fn prepare_target(target: &Path) -> io::Result<()> {
    if target.exists() && fs::read_dir(target)?.next().is_some() {
        let why = format!("crash image target {} is not empty", target.display());
        return Err(io::Error::new(io::ErrorKind::AlreadyExists, why));
    }
    fs::create_dir_all(target)
}

/// Builds one crash image.
struct ImageWriter<'a> {
    model: &'a Model,
    rng: Rng,
    target: &'a Path,
    /// Each file's crash contents, decided once per inode.
    contents: BTreeMap<InodeId, Vec<u8>>,
    image: CrashImage,
}

impl ImageWriter<'_> {
    /// The durable namespace plus the pending changes this crash keeps.
    fn crash_namespace(&mut self) -> Namespace {
        let mut ns = self.model.durable.clone();
        let pending = &self.model.pending_ns;
        if pending.is_empty() {
            return ns;
        }
        let fates = Selection::pick(&mut self.rng).fates(pending.len(), &mut self.rng, |_| false);
        for (p, fate) in pending.iter().zip(fates) {
            if fate == data::Fate::Kept {
                p.op.apply(&mut ns);
                self.image.namespace_ops.kept += 1;
            } else {
                self.image.namespace_ops.dropped += 1;
            }
        }
        ns
    }

    /// Writes every reachable directory and file of `ns`, except what lies
    /// inside an index directory.
    fn write_namespace(&mut self, ns: &Namespace, history: &History) -> io::Result<()> {
        for (path, node) in ns {
            let inside_index = history
                .index_dirs
                .iter()
                .any(|dir| path != dir && path.starts_with(dir));
            if inside_index || !namespace::reachable(path, ns, &self.model.created_dirs) {
                continue;
            }
            match node {
                Node::Dir => {
                    fs::create_dir_all(self.target.join(path))?;
                    self.image.dirs.push(path.clone());
                }
                Node::File(id) => self.write_file(path, *id)?,
            }
        }
        Ok(())
    }

    fn write_file(&mut self, path: &Path, id: InodeId) -> io::Result<()> {
        if !self.contents.contains_key(&id) {
            let content = self.crash_content(&self.model.inodes[id]);
            self.contents.insert(id, content);
        }
        let full = self.target.join(path);
        fs::create_dir_all(namespace::parent(&full))?;
        tree::write_sparse(&full, &self.contents[&id])?;
        self.image.files.push(path.to_path_buf());
        Ok(())
    }

    /// An inode's durable bytes plus what this crash keeps of its pending
    /// operations.
    fn crash_content(&mut self, inode: &Inode) -> Vec<u8> {
        let mut content = inode.durable.clone();
        let ops: Vec<DataOp> = inode.pending.iter().map(|p| p.op.clone()).collect();
        data::resolve(&mut content, &ops, &mut self.rng, &mut self.image.data_ops);
        content
    }

    /// Writes each index directory's chosen copy.
    fn write_indexes(
        &mut self,
        ns: &Namespace,
        history: &History,
        choice: IndexChoice,
    ) -> io::Result<()> {
        for dir in history.index_dirs.iter() {
            let created = &self.model.created_dirs;
            let present = namespace::reachable(dir, ns, created)
                && (!created.contains(dir) || ns.get(dir) == Some(&Node::Dir));
            let keep = match choice {
                IndexChoice::LastCheckpoint => true,
                IndexChoice::Lost => false,
                IndexChoice::Random => self.rng.chance(1, 2),
            };
            if let (true, true, Some((event, copy))) =
                (present, keep, self.model.snapshots.get(dir))
            {
                copy.write_into(&self.target.join(dir))?;
                self.image.indexes.push((dir.clone(), *event));
            }
        }
        Ok(())
    }
}
