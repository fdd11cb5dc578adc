//! Ctrl-C during `materialize`: the first sets the run's cancel flag (running
//! partitions finish, nothing new starts, the summary prints, the store
//! closes cleanly); a second exits at once with status 130.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::flag;

/// The exit status of a run stopped by Ctrl-C (128 + SIGINT, as shells report it).
pub(crate) const INTERRUPTED_EXIT: u8 = 130;

/// A flag that the first SIGINT or SIGTERM sets; the next one ends the process.
///
/// # Errors
/// The signal handlers cannot be installed.
pub(crate) fn cancel_on_interrupt() -> std::io::Result<Arc<AtomicBool>> {
    let cancel = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM] {
        // Registered first, so it sees the flag before this signal sets it:
        // only a second signal exits.
        flag::register_conditional_shutdown(signal, i32::from(INTERRUPTED_EXIT), cancel.clone())?;
        flag::register(signal, cancel.clone())?;
    }
    Ok(cancel)
}
