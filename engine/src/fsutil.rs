//! Small file-system helpers.

use std::fs::File;
use std::path::Path;

use crate::error::{Error, Result};

/// `fsync`s a directory so that entries created in it survive power loss.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("fsync directory", dir, e))
}
