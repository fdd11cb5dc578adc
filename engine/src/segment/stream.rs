//! Payloads encoded straight into a segment: the encoder writes through a
//! [`SegmentSink`], which appends small writes to the batch's coalescing
//! buffer and hands large ones (an Arrow array's body) to `pwrite` directly,
//! computing the payload's crc32 as the bytes go by. No buffer holds the
//! whole payload.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

use crate::error::{Error, Result};
use crate::io::FileIo;
use crate::record::Checksum;

/// Writes of at least this many bytes go to the file directly; smaller ones
/// are gathered in the coalescing buffer.
const DIRECT_WRITE: usize = 64 << 10;

/// The coalescing buffer is written out when it holds this much.
const GATHERED_MAX: usize = 256 << 10;

/// A payload that encodes itself into a segment while it is appended.
pub(crate) trait StreamedPayload {
    /// The exact number of bytes [`StreamedPayload::write_to`] writes.
    fn encoded_len(&self) -> u64;

    /// Writes the payload's bytes to `out`.
    ///
    /// # Errors
    /// An encoding error, or the error of a write to `out`.
    fn write_to(&self, out: &mut dyn Write) -> Result<()>;
}

/// Where a streamed payload goes: the active segment's file, from `at`, for
/// exactly `len` bytes, through the coalescing buffer.
pub(super) struct SegmentSink<'a> {
    pub buffer: &'a mut Vec<u8>,
    /// The file offset of the buffer's first byte.
    pub buffer_at: &'a mut u64,
    pub io: &'a dyn FileIo,
    pub file: &'a File,
    pub path: &'a Path,
    /// The file offset of the next byte.
    pub at: u64,
    /// The file offset the payload must end at.
    pub end: u64,
    pub crc: crc32fast::Hasher,
    /// Whether the buffer was written out while the payload streamed.
    pub flushed: bool,
    /// The sink's own failure (a failed write, or more bytes than announced).
    pub failure: Option<Error>,
}

impl SegmentSink<'_> {
    /// The payload's checksum once the encoder is done, and whether the
    /// coalescing buffer was written out meanwhile.
    ///
    /// # Errors
    /// The sink's own failure first, then the encoder's, then a length other
    /// than announced.
    pub fn finish(self, encoded: Result<()>) -> Result<(Checksum, bool)> {
        if let Some(failure) = self.failure {
            return Err(failure);
        }
        encoded?;
        if self.at != self.end {
            return Err(Error::io(
                "stream payload",
                self.path,
                io::Error::other(format!(
                    "the encoder wrote {} bytes fewer than it announced",
                    self.end - self.at
                )),
            ));
        }
        Ok((Checksum(self.crc.finalize()), self.flushed))
    }

    fn fail(&mut self, error: Error) -> io::Error {
        let reported = io::Error::other(error.to_string());
        self.failure = Some(error);
        reported
    }

    fn write_buffer(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        self.flushed = true;
        let written = self
            .io
            .write_at(self.file, self.path, self.buffer, *self.buffer_at);
        self.buffer.clear();
        written.map_err(|e| {
            let error = Error::io("write segment", self.path, e);
            self.fail(error)
        })
    }
}

impl Write for SegmentSink<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.write_all(bytes)?;
        Ok(bytes.len())
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.failure.is_some() {
            return Err(io::Error::other("an earlier write to the segment failed"));
        }
        let Some(next) = self
            .at
            .checked_add(bytes.len() as u64)
            .filter(|&next| next <= self.end)
        else {
            let error = Error::io(
                "stream payload",
                self.path,
                io::Error::other("the encoder wrote more bytes than it announced"),
            );
            return Err(self.fail(error));
        };
        self.crc.update(bytes);
        if bytes.len() >= DIRECT_WRITE {
            self.write_buffer()?;
            self.flushed = true;
            if let Err(e) = self.io.write_at(self.file, self.path, bytes, self.at) {
                let error = Error::io("write segment", self.path, e);
                return Err(self.fail(error));
            }
        } else {
            if self.buffer.is_empty() {
                *self.buffer_at = self.at;
            }
            self.buffer.extend_from_slice(bytes);
            if self.buffer.len() >= GATHERED_MAX {
                self.write_buffer()?;
            }
        }
        self.at = next;
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
