//! What [`Store::verify`](super::Store::verify) and
//! [`Store::stats`](super::Store::stats) read of a store on object storage:
//! the log objects its view references, checked whole through the cache,
//! and the log objects the store holds.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::Inner;
use super::remote::{RemoteBackend, check_whole};
use super::remote_live::referenced_objects;
use crate::error::Result;
use crate::log::is_data_object;
use crate::remote::{Listed, check_data_object, log_object_id, object_name};
use crate::segment::QuarantinedSegment;

impl RemoteBackend {
    /// The log objects in the store, by number (one `LIST`).
    ///
    /// # Errors
    /// [`Error::ObjectStore`](crate::Error::ObjectStore) if the listing fails.
    pub(super) fn log_objects(&self) -> Result<BTreeMap<u64, Listed>> {
        Ok(self
            .client
            .list("log")?
            .into_iter()
            .filter_map(|listed| log_object_id(&listed.name).map(|id| (id, listed)))
            .collect())
    }

    /// Fetches (through the cache) every log object a retained version of
    /// the view points into and checks it whole: every frame's header,
    /// every payload's crc32, whole committed batches; and every data object
    /// one points into: its put frame and payload crc32. Returns the objects
    /// that are missing or fail, with why.
    ///
    /// # Errors
    /// [`Error::ObjectStore`](crate::Error::ObjectStore) if a fetch fails for
    /// a reason other than damage (the retries spent, permissions).
    pub(super) fn check_referenced(&self, inner: &Inner) -> Result<Vec<QuarantinedSegment>> {
        let view = inner.retained_view();
        let mut failed = Vec::new();
        for id in referenced_objects(view.iter().map(|(_, entry)| entry)) {
            let problem = match self.fetch(inner, id) {
                Ok(Some(segment)) if is_data_object(id) => check_data_object(&segment).err(),
                Ok(Some(segment)) => check_whole(&segment, None).err(),
                Ok(None) => Some("the object is missing".to_owned()),
                Err(crate::Error::CorruptObject { reason, .. }) => Some(reason),
                Err(error) => return Err(error),
            };
            if let Some(reason) = problem {
                failed.push(QuarantinedSegment {
                    id,
                    path: PathBuf::from(self.client.path(&object_name(id)).to_string()),
                    reason,
                });
            }
        }
        Ok(failed)
    }
}
