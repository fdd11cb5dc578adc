//! Directory entries as a map from path to node, and the operations on it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// An inode number: an index into the model's inode table.
pub(crate) type InodeId = usize;

/// What a directory entry names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Node {
    /// A regular file.
    File(InodeId),
    /// A directory.
    Dir,
}

/// Every entry, by path relative to the root (the root itself is implicit).
pub(crate) type Namespace = BTreeMap<PathBuf, Node>;

/// A change to directory entries.
#[derive(Debug, Clone)]
pub(crate) enum NsOp {
    /// A new entry (`create` of a new file, or `create_dir`).
    Link {
        /// Its path.
        path: PathBuf,
        /// What it names.
        node: Node,
    },
    /// `rename(from, to)`; a directory moves with everything under it.
    Rename {
        /// The old path.
        from: PathBuf,
        /// The new path.
        to: PathBuf,
    },
    /// `remove_file(path)`.
    Unlink {
        /// The removed path.
        path: PathBuf,
    },
}

/// The directory holding `path` (the empty path for the root's entries).
pub(crate) fn parent(path: &Path) -> &Path {
    path.parent().unwrap_or(Path::new(""))
}

impl NsOp {
    /// Whether an `fsync` of directory `dir` makes this change durable. A
    /// rename between two directories is one journal transaction on the
    /// journaling file systems the engine targets, so syncing either makes
    /// all of it durable.
    pub(crate) fn synced_by(&self, dir: &Path) -> bool {
        match self {
            Self::Link { path, .. } | Self::Unlink { path } => parent(path) == dir,
            Self::Rename { from, to } => parent(from) == dir || parent(to) == dir,
        }
    }

    /// Applies this change to `ns`. A change whose source is missing (because
    /// an earlier change was lost in a crash) does nothing.
    pub(crate) fn apply(&self, ns: &mut Namespace) {
        match self {
            Self::Link { path, node } => {
                ns.insert(path.clone(), *node);
            }
            Self::Unlink { path } => {
                ns.remove(path);
            }
            Self::Rename { from, to } => rename(ns, from, to),
        }
    }
}

/// Moves `from` (and, for a directory, everything under it) to `to`,
/// replacing what was at `to`.
fn rename(ns: &mut Namespace, from: &Path, to: &Path) {
    let Some(node) = ns.remove(from) else {
        return;
    };
    if from == to {
        ns.insert(to.to_path_buf(), node);
        return;
    }
    remove_tree(ns, to);
    if node == Node::Dir {
        let moved: Vec<(PathBuf, Node)> = ns
            .range(from.to_path_buf()..)
            .take_while(|(p, _)| p.starts_with(from))
            .map(|(p, n)| (p.clone(), *n))
            .collect();
        for (old, child) in moved {
            ns.remove(&old);
            let rest = old
                .strip_prefix(from)
                .expect("taken with starts_with(from)");
            ns.insert(to.join(rest), child);
        }
    }
    ns.insert(to.to_path_buf(), node);
}

/// Removes `path` and everything under it.
fn remove_tree(ns: &mut Namespace, path: &Path) {
    let doomed: Vec<PathBuf> = ns
        .range(path.to_path_buf()..)
        .take_while(|(p, _)| p.starts_with(path))
        .map(|(p, _)| p.clone())
        .collect();
    for p in doomed {
        ns.remove(&p);
    }
}

/// Whether `path` can be reached in `ns`: no ancestor of it is a directory
/// that was created through the seam (`created_dirs`) and is missing from
/// `ns`. Directories the recorder never saw created are assumed to exist.
pub(crate) fn reachable(path: &Path, ns: &Namespace, created_dirs: &BTreeSet<PathBuf>) -> bool {
    path.ancestors()
        .skip(1)
        .filter(|a| !a.as_os_str().is_empty())
        .all(|a| !created_dirs.contains(a) || ns.get(a) == Some(&Node::Dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(entries: &[(&str, Node)]) -> Namespace {
        entries
            .iter()
            .map(|(p, n)| (PathBuf::from(p), *n))
            .collect()
    }

    #[test]
    fn renaming_a_directory_moves_its_tree_and_replaces_the_target() {
        let mut n = ns(&[
            ("a", Node::Dir),
            ("a/x", Node::File(1)),
            ("ab", Node::File(2)),
            ("b", Node::File(3)),
        ]);
        rename(&mut n, Path::new("a"), Path::new("b"));
        assert_eq!(
            n,
            ns(&[
                ("ab", Node::File(2)),
                ("b", Node::Dir),
                ("b/x", Node::File(1))
            ])
        );
    }

    #[test]
    fn a_path_under_a_lost_directory_is_unreachable() {
        let created: BTreeSet<PathBuf> = [PathBuf::from("s")].into();
        let with_dir = ns(&[("s", Node::Dir), ("s/f", Node::File(0))]);
        let without = ns(&[("s/f", Node::File(0))]);
        assert!(reachable(Path::new("s/f"), &with_dir, &created));
        assert!(!reachable(Path::new("s/f"), &without, &created));
        assert!(reachable(Path::new("t/f"), &without, &created));
    }

    #[test]
    fn a_cross_directory_rename_is_synced_by_either_directory() {
        let op = NsOp::Rename {
            from: "a/x".into(),
            to: "b/x".into(),
        };
        assert!(op.synced_by(Path::new("a")));
        assert!(op.synced_by(Path::new("b")));
        assert!(!op.synced_by(Path::new("")));
    }
}
