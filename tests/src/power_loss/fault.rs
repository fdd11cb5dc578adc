//! Injected errors: fail the N-th call of one kind of file operation.

use std::io;

use super::event::OpKind;

/// The error an injected [`Fault`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultError {
    /// An error of this kind with no OS error number (`Other` is EIO-like).
    Kind(io::ErrorKind),
    /// The raw OS error with this number.
    Os(i32),
}

impl FaultError {
    /// `EIO`: an I/O error from the device.
    pub const EIO: Self = Self::Os(5);
    /// `ENOSPC`: no space left on the device.
    pub const ENOSPC: Self = Self::Os(28);

    /// A fresh `io::Error` for this fault.
    #[must_use]
    pub fn to_io_error(self) -> io::Error {
        match self {
            Self::Kind(kind) => io::Error::new(kind, "injected fault"),
            Self::Os(code) => io::Error::from_raw_os_error(code),
        }
    }
}

/// Fails the `nth` call of kind `op` made after the fault was injected (the
/// next call is `nth == 1`). Each fault fires exactly once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    /// The kind of call to fail.
    pub op: OpKind,
    /// Which call, counting from 1 and from the moment of injection.
    pub nth: u64,
    /// The error it returns.
    pub error: FaultError,
    /// For [`OpKind::WriteAt`]: how many leading bytes are written before the
    /// error (clamped to the write's length). Ignored for other kinds, which
    /// fail without doing anything.
    pub written_prefix: usize,
}

impl Fault {
    /// Fails the `nth` call of `op` with `error`, writing nothing.
    ///
    /// # Panics
    /// If `nth` is 0: calls count from 1.
    #[must_use]
    pub fn new(op: OpKind, nth: u64, error: FaultError) -> Self {
        assert!(nth >= 1, "calls are counted from 1");
        Self {
            op,
            nth,
            error,
            written_prefix: 0,
        }
    }

    /// Fails the `nth` call of `op` with `EIO`.
    #[must_use]
    pub fn eio(op: OpKind, nth: u64) -> Self {
        Self::new(op, nth, FaultError::EIO)
    }

    /// Fails the `nth` call of `op` with `ENOSPC`.
    #[must_use]
    pub fn enospc(op: OpKind, nth: u64) -> Self {
        Self::new(op, nth, FaultError::ENOSPC)
    }

    /// A failing write first writes this many leading bytes.
    #[must_use]
    pub fn with_written_prefix(mut self, bytes: usize) -> Self {
        self.written_prefix = bytes;
        self
    }
}

/// Call counters and the faults still waiting to fire.
#[derive(Debug, Default)]
pub(crate) struct FaultPlan {
    calls: [u64; OpKind::ALL.len()],
    /// Each armed fault with the call count of its kind at which it fires.
    armed: Vec<(u64, Fault)>,
}

impl FaultPlan {
    /// Arms `fault`, counting from the calls made so far.
    pub(crate) fn inject(&mut self, fault: Fault) {
        let fires_at = self.calls[fault.op.slot()] + fault.nth;
        self.armed.push((fires_at, fault));
    }

    /// Counts one call of `op`; returns the fault it triggers, if any.
    pub(crate) fn on_call(&mut self, op: OpKind) -> Option<Fault> {
        let count = &mut self.calls[op.slot()];
        *count += 1;
        let now = *count;
        let hit = self
            .armed
            .iter()
            .position(|(at, f)| f.op == op && *at == now)?;
        Some(self.armed.remove(hit).1)
    }

    /// The calls of `op` made so far.
    pub(crate) fn calls(&self, op: OpKind) -> u64 {
        self.calls[op.slot()]
    }

    /// The faults that have not fired yet.
    pub(crate) fn armed(&self) -> usize {
        self.armed.len()
    }
}
