//! Where the committed frames of a segment end, found with `pread`.
//!
//! A read-only store follows a log that another process writes. The last
//! segment may still take appends, and its writer cuts it back to its used
//! length when it seals it (or, reopening it after a crash, to the end of its
//! last committed batch). Pages of a mapping past the end of its file fault
//! with `SIGBUS` when touched, so a reader must not look at that part of the
//! segment through its mapping. It finds the end of the last committed batch
//! here instead, with `pread` (which reports the end of the file instead of
//! faulting), and reads the mapping only below it: no writer ever cuts a
//! committed batch away.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::replay::SegmentEnd;
use super::{FRAME_HEADER_LEN, FrameKind, decode_frame};
use crate::error::{Error, Result};
use crate::record::Checksum;

/// More than any frame's header, key and described bytes take: a longer
/// prefix is garbage, not a frame.
const MAX_FRAME_PREFIX: u64 = 1 << 20;
/// Bytes read per `pread` while a payload's crc32 is recomputed.
const PAYLOAD_CHUNK: usize = 1 << 20;

/// Reads the frames of segment `segment` (file `file`) from `start` while
/// they are intact, with the checks replay makes (header checksum, sequence
/// numbers above `after_seq` and increasing, payload crc32, the whole frame
/// inside the file). The result says where the last commit frame read ends
/// (`committed_end`, or `start`), where the last intact frame ends, and why
/// reading stopped before the end of the file, if it did.
///
/// # Errors
/// The operating system's error from reading the file.
pub(crate) fn scan_tail(
    file: &File,
    path: &Path,
    segment: u64,
    start: u64,
    after_seq: u64,
) -> Result<SegmentEnd> {
    let mut reader = TailReader {
        file,
        buffer: Vec::new(),
    };
    let mut end = SegmentEnd {
        segment,
        committed_end: start,
        valid_end: start,
        stopped: None,
        damaged: false,
        zeros_after: false,
    };
    let mut last_seq = after_seq;
    let io = |e| Error::io("read segment", path, e);
    loop {
        let frame = match reader.frame(end.valid_end).map_err(io)? {
            Ok(Some(frame)) => frame,
            Ok(None) => break,
            Err(reason) => {
                end.stopped = Some(reason);
                break;
            }
        };
        if frame.seq <= last_seq {
            end.stopped = Some("frame's sequence number does not increase (stale bytes)");
            break;
        }
        last_seq = frame.seq;
        end.valid_end = frame.end;
        if frame.commit {
            end.committed_end = frame.end;
        }
    }
    if end.stopped.is_some() {
        let mut after = [0u8; 64];
        let read = read_full_at(file, &mut after, end.valid_end).map_err(io)?;
        end.zeros_after = read == after.len() && after.iter().all(|&b| b == 0);
    }
    Ok(end)
}

/// An intact frame: its sequence number, where it ends, whether it commits.
struct TailFrame {
    seq: u64,
    end: u64,
    commit: bool,
}

struct TailReader<'a> {
    file: &'a File,
    buffer: Vec<u8>,
}

impl TailReader<'_> {
    /// The frame at `offset`: `Ok(None)` if the file ends there, `Err` with
    /// what is wrong if it is not intact.
    fn frame(
        &mut self,
        offset: u64,
    ) -> io::Result<std::result::Result<Option<TailFrame>, &'static str>> {
        let mut head = [0u8; FRAME_HEADER_LEN as usize];
        match read_full_at(self.file, &mut head, offset)? {
            0 => return Ok(Ok(None)),
            n if n < head.len() => return Ok(Err("frame header is truncated")),
            _ => {}
        }
        let word = |at: usize| {
            u64::from(u32::from_le_bytes([
                head[at],
                head[at + 1],
                head[at + 2],
                head[at + 3],
            ]))
        };
        if head[..4] != *b"TFRM" {
            return Ok(Err("frame magic is missing"));
        }
        let prefix = FRAME_HEADER_LEN + word(28) + word(32);
        if prefix > MAX_FRAME_PREFIX {
            return Ok(Err("frame key is too long"));
        }
        self.buffer.resize(usize::try_from(prefix).unwrap_or(0), 0);
        let read = read_full_at(self.file, &mut self.buffer, offset)?;
        let frame = match decode_frame(&self.buffer[..read]) {
            Ok(frame) => frame,
            Err(reason) => return Ok(Err(reason)),
        };
        let header = frame.header;
        let past_end = "frame runs past the end of the segment";
        let Some(end) = offset.checked_add(header.frame_len()) else {
            return Ok(Err(past_end));
        };
        if let FrameKind::Put {
            payload_len,
            checksum,
            external: false,
            ..
        } = header.kind
        {
            let at = offset + header.payload_offset();
            match self.payload_checksum(at, payload_len)? {
                None => return Ok(Err("payload runs past the end of the segment")),
                Some(found) if found != checksum => {
                    return Ok(Err("payload fails its crc32 (torn write)"));
                }
                Some(_) => {}
            }
        }
        let mut last = [0u8; 1];
        if end > offset && read_full_at(self.file, &mut last, end - 1)? < 1 {
            return Ok(Err(past_end));
        }
        Ok(Ok(Some(TailFrame {
            seq: header.seq,
            end,
            commit: matches!(header.kind, FrameKind::Commit { .. }),
        })))
    }

    /// The crc32 of the `len` bytes at `at`, or `None` if the file ends first.
    fn payload_checksum(&mut self, at: u64, len: u64) -> io::Result<Option<Checksum>> {
        let mut hasher = crc32fast::Hasher::new();
        let chunk = usize::try_from(len).map_or(PAYLOAD_CHUNK, |n| n.min(PAYLOAD_CHUNK));
        if self.buffer.len() < chunk {
            self.buffer.resize(chunk, 0);
        }
        let mut done = 0;
        while done < len {
            let step = usize::try_from(len - done).map_or(chunk, |n| n.min(chunk));
            let chunk = &mut self.buffer[..step];
            if read_full_at(self.file, chunk, at + done)? < step {
                return Ok(None);
            }
            hasher.update(chunk);
            done += step as u64;
        }
        Ok(Some(Checksum(hasher.finalize())))
    }
}

/// Reads into all of `buffer` from `offset`, stopping early only at the end
/// of the file; returns how many bytes were read.
fn read_full_at(file: &File, buffer: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut done = 0;
    while done < buffer.len() {
        match file.read_at(&mut buffer[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Codec;
    use crate::io::{FileIo, OsFileIo};
    use crate::log::{FrameHeader, align64};

    /// Appends a frame (payload of `payload` bytes when a put) at `offset`;
    /// returns where it ends.
    fn write_frame(file: &File, path: &Path, offset: u64, seq: u64, kind: FrameKind) -> u64 {
        let header = FrameHeader {
            seq,
            kind,
            key_len: 1,
            described_len: 0,
        };
        let mut bytes = header.encode(b"k", b"");
        if let FrameKind::Put { payload_len, .. } = kind {
            bytes.extend(std::iter::repeat_n(7u8, payload_len as usize));
            bytes.resize(
                bytes.len() + (align64(payload_len) - payload_len) as usize,
                0,
            );
        }
        OsFileIo
            .write_at(file, path, &bytes, offset)
            .expect("write frame");
        offset + bytes.len() as u64
    }

    fn put(len: u64) -> FrameKind {
        FrameKind::Put {
            codec: Codec::Raw,
            payload_len: len,
            checksum: Checksum::of(&vec![7u8; len as usize]),
            moved: false,
            external: false,
        }
    }

    fn committed_end(file: &File, path: &Path, start: u64, after_seq: u64) -> u64 {
        scan_tail(file, path, 1, start, after_seq)
            .expect("scan")
            .committed_end
    }

    #[test]
    fn stops_at_the_last_commit_before_a_torn_or_missing_frame() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("segment");
        let file = OsFileIo.create(&path).expect("create");
        let commit = |first_seq, changes| FrameKind::Commit { first_seq, changes };
        let first = write_frame(&file, &path, 64, 1, put(100));
        let committed = write_frame(&file, &path, first, 2, commit(1, 1));
        let second = write_frame(&file, &path, committed, 3, put(3000));
        assert_eq!(committed_end(&file, &path, 64, 0), committed);
        let end = write_frame(&file, &path, second, 4, commit(3, 1));
        assert_eq!(committed_end(&file, &path, 64, 0), end);
        assert_eq!(
            committed_end(&file, &path, 64, 2),
            64,
            "frames not above the sequence number replay resumes after are stale"
        );
        OsFileIo
            .write_at(&file, &path, &[0u8; 8], committed + 64 + 100)
            .expect("tear the payload");
        assert_eq!(committed_end(&file, &path, 64, 0), committed);
        OsFileIo
            .set_len(&file, &path, committed + 200)
            .expect("cut the file inside the second payload");
        assert_eq!(committed_end(&file, &path, 64, 0), committed);
        assert_eq!(committed_end(&file, &path, committed, 2), committed);
    }
}
