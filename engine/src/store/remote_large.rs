//! Large values on object storage: a payload of at least
//! [`StoreBuilder::remote_large_value_threshold`] bytes is uploaded as its
//! own data object (multipart, see [`crate::remote`]'s `data` module) before
//! the commit, and the log object holds an external put naming it.
//!
//! # Why a crash leaves only an orphan
//!
//! The data object is complete before the log object that names it is
//! created (the create is the commit), so a writer that dies in between
//! leaves a data object that no log object names, and a failed upload
//! commits nothing. Garbage collection deletes such an orphan once it is
//! older than the grace period ([`super::remote_gc`]).
//!
//! # Why garbage collection never takes a data object a commit needs
//!
//! Collection deletes a data object only if it was uploaded at least the
//! grace period `g` ago and no log object it lists *afterwards* names it; a
//! writer refuses to create a log object naming a data object whose upload
//! began more than `g / 2` ago. So the log object of any commit that lands
//! exists before collection could pick its data object (given clocks that
//! agree within `g / 2`, as collection already assumes).

use std::collections::HashMap;
use std::sync::{MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::builder::StoreBuilder;
use super::remote::RemoteBackend;
use crate::error::{Error, Result};
use crate::remote::{
    data_object_framing, data_object_name, external_described, external_put, is_large,
    new_data_object_id,
};
use crate::segment::ChangeFrame;

/// Default size from which a payload goes to its own data object (8 MiB).
pub const DEFAULT_LARGE_VALUE_THRESHOLD: u64 = 8 << 20;

impl StoreBuilder {
    /// The payload size from which a store on object storage uploads a
    /// put's payload as its own data object, through a multipart upload in
    /// parts of 5 MiB, before committing a log object that names it
    /// (default [`DEFAULT_LARGE_VALUE_THRESHOLD`], 8 MiB). Smaller payloads
    /// go inside the log object (one `PUT` per commit). A read of a large
    /// value fetches its data object alone: the value and about 200 bytes
    /// of framing. At least 1.
    pub fn remote_large_value_threshold(mut self, bytes: u64) -> Self {
        self.remote.large_value_threshold = bytes.max(1);
        self
    }
}

/// The data objects one commit uploaded, and the external puts standing
/// for their payloads.
pub(super) struct Uploaded {
    /// For each large change of the batch: its index, its data object, and
    /// the described bytes of its external put.
    external: Vec<(usize, u64, Vec<u8>)>,
}

impl Uploaded {
    /// The batch to commit: `changes` with each large put replaced by its
    /// external put.
    pub(super) fn frames<'a>(&'a self, changes: &[ChangeFrame<'a>]) -> Vec<ChangeFrame<'a>> {
        let mut frames: Vec<ChangeFrame<'a>> = changes
            .iter()
            .map(|change| ChangeFrame {
                kind: change.kind,
                key: change.key,
                described: change.described,
                payload: change.payload,
            })
            .collect();
        for (index, _, described) in &self.external {
            frames[*index] = external_put(&changes[*index], described);
        }
        frames
    }
}

impl RemoteBackend {
    /// Uploads the payloads of `changes` that reach the threshold, each as
    /// its own data object, and remembers when each upload began (see
    /// [`RemoteBackend::check_uploads_fresh`]).
    ///
    /// # Errors
    /// [`Error::ObjectStore`] if an upload fails (it is aborted; nothing is
    /// committed).
    pub(super) fn upload_large(&self, changes: &[ChangeFrame<'_>]) -> Result<Uploaded> {
        let mut uploaded = Uploaded {
            external: Vec::new(),
        };
        for (index, change) in changes.iter().enumerate() {
            if !is_large(change, self.large_value_threshold) {
                continue;
            }
            let id = new_data_object_id(super::remote::random_u64());
            self.uploads().insert(id, Instant::now());
            let (head, tail) = data_object_framing(id, self.writer_id, change);
            let sent = self
                .client
                .upload(&data_object_name(id), &head, change.payload, &tail);
            uploaded
                .external
                .push((index, id, external_described(id, change)));
            if let Err(error) = sent {
                self.forget_uploads(&uploaded);
                return Err(error);
            }
        }
        Ok(uploaded)
    }

    /// Forgets the upload times of `uploaded` once its commit has ended.
    pub(super) fn forget_uploads(&self, uploaded: &Uploaded) {
        let mut uploads = self.uploads();
        for (_, id, _) in &uploaded.external {
            uploads.remove(id);
        }
    }

    fn uploads(&self) -> MutexGuard<'_, HashMap<u64, Instant>> {
        self.uploads.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Refuses to commit `batches` if one of them names a data object whose
    /// upload began more than half the grace period ago: garbage collection
    /// might take it for an orphan (see the module documentation).
    ///
    /// # Errors
    /// [`Error::ObjectStore`] naming the data object.
    pub(super) fn check_uploads_fresh(&self, batches: &[&[ChangeFrame<'_>]]) -> Result<()> {
        let limit = self.gc_grace / 2;
        let uploads = self.uploads();
        for change in batches.iter().flat_map(|batch| batch.iter()) {
            let Some(id) = data_object_of(change) else {
                continue;
            };
            let age = uploads.get(&id).map_or(Duration::MAX, Instant::elapsed);
            if age > limit {
                return Err(Error::ObjectStore {
                    operation: "commit",
                    object: self.client.path(&data_object_name(id)).to_string(),
                    reason: format!(
                        "its upload began {age:?} ago, more than half the garbage-collection \
                         grace period: it may be collected as an orphan, so it is not committed"
                    ),
                });
            }
        }
        Ok(())
    }
}

/// The data object an external put names (`None` for any other change).
fn data_object_of(change: &ChangeFrame<'_>) -> Option<u64> {
    use crate::log::FrameKind;
    if !matches!(change.kind, FrameKind::Put { external: true, .. }) {
        return None;
    }
    let (id, _) = change.described.split_first_chunk::<8>()?;
    Some(u64::from_le_bytes(*id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Codec;
    use crate::log::{FrameHeader, FrameKind, decode_frame};
    use crate::record::Checksum;

    #[test]
    fn an_external_change_names_its_data_object() {
        let payload = [1u8; 10];
        let change = ChangeFrame {
            kind: FrameKind::Put {
                codec: Codec::Raw,
                payload_len: 10,
                checksum: Checksum::of(&payload),
                moved: false,
                external: false,
            },
            key: b"k",
            described: b"d",
            payload: &payload,
        };
        assert_eq!(data_object_of(&change), None);
        let id = new_data_object_id(3);
        let described = external_described(id, &change);
        let external = external_put(&change, &described);
        assert_eq!(data_object_of(&external), Some(id));
        let header = FrameHeader {
            seq: 1,
            kind: external.kind,
            key_len: 1,
            described_len: u32::try_from(described.len()).expect("short"),
        };
        let bytes = header.encode(external.key, external.described);
        let frame = decode_frame(&bytes).expect("frame");
        assert_eq!(frame.data_object().map(|(id, _)| id), Ok(Some(id)));
    }
}
