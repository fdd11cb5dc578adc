//! Cross-crate acceptance, crash and fault-injection tests for Tessera.
//!
//! The tests live in `tests/`; this library holds what they share: the index
//! backends to run against, deterministic payloads, a way for a test to
//! re-run its own binary as a child process, the places a store can live
//! ([`Backend`]: local index backends, object storage), and the
//! [`power_loss`] simulator.

mod backend;
pub mod power_loss;
#[cfg(feature = "object-store")]
mod shared_bucket;

pub use backend::{Backend, store_backends};
#[cfg(feature = "object-store")]
pub use shared_bucket::{shared_backend, shared_store_url, unique_prefix};

use std::process::{Command, Stdio};

use tessera_engine::IndexKind;

/// Every index backend this build has.
#[must_use]
pub fn backends() -> Vec<IndexKind> {
    vec![
        IndexKind::Sled,
        #[cfg(feature = "redb")]
        IndexKind::Redb,
    ]
}

/// A deterministic payload for write number `n`: its length varies from 1 byte
/// to 64 KiB and every byte depends on `n`, so a mix-up between writes shows.
#[must_use]
pub fn payload_for(n: u64) -> Vec<u8> {
    let len = 1 + (n.wrapping_mul(2_654_435_761) % 65_536) as usize;
    let mut state = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

/// A command that re-runs the current test binary, running only the test
/// named `test_name`, with `env` set so that test acts as a child.
///
/// # Panics
/// If the current executable's path is unknown.
#[must_use]
pub fn child_command(test_name: &str, env: &[(&str, &str)]) -> Command {
    let exe = std::env::current_exe().expect("current test executable");
    let mut command = Command::new(exe);
    command
        .args(["--exact", test_name, "--nocapture", "--test-threads=1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    command
}

/// Whether this process may mount a tmpfs (root with the capability to
/// mount): tried once on a temporary directory, then unmounted.
#[must_use]
pub fn can_mount_tmpfs() -> bool {
    let Ok(dir) = tempfile::tempdir() else {
        return false;
    };
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if mounted {
        let _ = Command::new("umount").arg(dir.path()).status();
    }
    mounted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_deterministic_and_distinct() {
        assert_eq!(payload_for(7), payload_for(7));
        assert_ne!(payload_for(7), payload_for(8));
        assert!((1..=65_536).contains(&payload_for(123).len()));
    }

    #[test]
    fn every_backend_of_the_build_is_run() {
        let backends = store_backends();
        assert_eq!(
            backends.iter().filter(|b| b.is_remote()).count(),
            usize::from(cfg!(feature = "object-store"))
        );
        assert_eq!(
            backends.len(),
            crate::backends().len() + usize::from(cfg!(feature = "object-store"))
        );
    }
}

/// The README's Rust examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
