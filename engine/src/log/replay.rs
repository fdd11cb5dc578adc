//! Reading the log back: the committed batches after a position, in order.
//!
//! A segment is read frame by frame from its header (or from the position
//! replay starts at) until a frame fails a check: a bad magic or crc, a
//! frame running past the file, a sequence number that does not increase, or
//! a payload that fails its crc32. Everything from there to the end of the
//! segment is a torn or garbage tail. Change frames wait for their commit
//! frame; a batch without one, or interrupted by anything else, is dropped.

use std::sync::Arc;

use super::{FrameHeader, FrameKind, FrameRef, decode_frame};
use crate::record::{Checksum, Described, Location, Record};
use crate::segment::{SEGMENT_HEADER_LEN, Segment};

/// One change of a committed batch, made by the frame numbered `seq`.
pub(crate) enum Change<'a> {
    /// `key` holds `record` as one of its versions (`record.seq` is the
    /// version): a new put, or (`moved`) a version moved by compaction.
    Put {
        key: &'a [u8],
        seq: u64,
        record: Record,
        moved: bool,
    },
    /// Every version of `key` below `below` is gone.
    Delete { key: &'a [u8], seq: u64, below: u64 },
}

#[cfg(test)]
impl Change<'_> {
    /// The key the change is about.
    pub(crate) fn key(&self) -> &[u8] {
        match self {
            Self::Put { key, .. } | Self::Delete { key, .. } => key,
        }
    }
}

/// What a replay found.
#[derive(Debug, Default, Clone)]
pub(crate) struct LogScan {
    /// The last frame of the last committed batch (where appends resume).
    pub last_committed: Option<FrameRef>,
    /// The largest sequence number of any valid frame.
    pub max_seq: u64,
    /// Batches applied.
    pub batches: u64,
    /// Batches dropped because their commit frame never came.
    pub uncommitted: u64,
    /// Per segment: where its valid frames end, and the file length.
    pub ends: Vec<SegmentEnd>,
}

/// Where the valid frames of one segment end.
#[derive(Debug, Clone)]
pub(crate) struct SegmentEnd {
    pub segment: u64,
    /// Just past the last frame of a committed batch in this segment (or
    /// where replay started in it).
    pub committed_end: u64,
    /// Just past the last valid frame.
    pub valid_end: u64,
    /// Why reading stopped before the end of the file, if it did.
    pub stopped: Option<&'static str>,
    /// Whether frames the index relies on are missing: the segment must not
    /// take appends again.
    pub damaged: bool,
    /// Whether the 64 bytes where reading stopped are zeros (room never
    /// written), rather than garbage or a damaged frame.
    pub zeros_after: bool,
}

/// The checkpoint a replay was asked to start after does not match the log.
#[derive(Debug)]
pub(crate) struct ReplayError(pub String);

struct Pending<'a> {
    first_seq: u64,
    last_seq: u64,
    changes: Vec<Change<'a>>,
}

struct Replayer<'a, F> {
    apply: F,
    scan: LogScan,
    pending: Option<Pending<'a>>,
    last_seq: u64,
    verify_payloads: bool,
}

/// Replays every committed batch after `after` (from the log's start if
/// `None`), calling `apply` with each batch's changes in log order.
///
/// `segments` are in id order. With `verify_payloads`, a put whose payload
/// fails its crc32 ends its segment's valid log like any damaged frame.
///
/// # Errors
/// [`ReplayError`] if the frame `after` names is not in the log as described.
pub(crate) fn replay<'a>(
    segments: &'a [Arc<Segment>],
    after: Option<FrameRef>,
    verify_payloads: bool,
    apply: impl FnMut(Vec<Change<'a>>),
) -> Result<LogScan, ReplayError> {
    let mut replayer = Replayer {
        apply,
        scan: LogScan {
            last_committed: after,
            max_seq: after.map_or(0, |at| at.seq),
            ..LogScan::default()
        },
        pending: None,
        last_seq: after.map_or(0, |at| at.seq),
        verify_payloads,
    };
    let mut previous: Option<(u64, bool)> = None;
    for segment in segments {
        let start = match after {
            Some(at) if segment.id() < at.segment => continue,
            Some(at) if segment.id() == at.segment => {
                if !resume_frame_readable(segment, at)? {
                    replayer.drop_pending();
                    replayer.scan.ends.push(SegmentEnd {
                        segment: segment.id(),
                        committed_end: at.end,
                        valid_end: at.end,
                        stopped: Some(
                            "the checkpointed frames are missing (damaged or cut segment)",
                        ),
                        damaged: true,
                        zeros_after: false,
                    });
                    previous = None;
                    continue;
                }
                at.end
            }
            _ => SEGMENT_HEADER_LEN,
        };
        let continues = previous.is_some_and(|(id, clean)| clean && id + 1 == segment.id());
        if !continues {
            replayer.drop_pending();
        }
        let end = replayer.read_segment(segment, start);
        previous = Some((segment.id(), end.stopped.is_none()));
        replayer.scan.ends.push(end);
    }
    replayer.drop_pending();
    Ok(replayer.scan)
}

/// Whether the frame a checkpoint covers up to is still in the log: `Ok(false)`
/// if it is unreadable (the log lost synced bytes: keep the index, whose
/// entries into the lost part read as corrupted), an error if another frame
/// stands there (the index belongs to another log: rebuild it).
fn resume_frame_readable(segment: &Segment, at: FrameRef) -> Result<bool, ReplayError> {
    let Ok(frame) = decode_frame(segment.tail(at.offset)) else {
        return Ok(false);
    };
    let header = frame.header;
    if header.seq != at.seq || at.offset + header.frame_len() != at.end {
        return Err(ReplayError(format!(
            "checkpoint frame at {}:{} has sequence {} (expected {})",
            segment.id(),
            at.offset,
            header.seq,
            at.seq
        )));
    }
    Ok(true)
}

impl<'a, F: FnMut(Vec<Change<'a>>)> Replayer<'a, F> {
    fn drop_pending(&mut self) {
        if self.pending.take().is_some() {
            self.scan.uncommitted += 1;
        }
    }

    fn read_segment(&mut self, segment: &'a Segment, start: u64) -> SegmentEnd {
        let len = segment.mapped_len();
        let mut end = SegmentEnd {
            segment: segment.id(),
            committed_end: start,
            valid_end: start,
            stopped: None,
            damaged: false,
            zeros_after: false,
        };
        let mut offset = start;
        while offset < len {
            match self.read_frame(segment, offset) {
                Ok((frame_end, committed)) => {
                    offset = frame_end;
                    end.valid_end = frame_end;
                    if committed {
                        end.committed_end = frame_end;
                    }
                }
                Err(reason) => {
                    end.stopped = Some(reason);
                    end.zeros_after = segment
                        .bytes(end.valid_end, 64)
                        .is_some_and(|b| b.iter().all(|&x| x == 0));
                    break;
                }
            }
        }
        end
    }

    /// Reads and handles the frame at `offset`; returns where it ends and
    /// whether it committed a batch.
    fn read_frame(
        &mut self,
        segment: &'a Segment,
        offset: u64,
    ) -> Result<(u64, bool), &'static str> {
        let frame = decode_frame(segment.tail(offset))?;
        let header = frame.header;
        let end = offset
            .checked_add(header.frame_len())
            .filter(|&end| end <= segment.mapped_len())
            .ok_or("frame runs past the end of the segment")?;
        if header.seq <= self.last_seq {
            return Err("frame's sequence number does not increase (stale bytes)");
        }
        let location = Location {
            segment: segment.id(),
            frame_offset: offset,
        };
        let mut committed = false;
        let change = match header.kind {
            FrameKind::Put {
                codec,
                payload_len,
                checksum,
                moved,
                external,
            } => {
                if self.verify_payloads && !external {
                    let payload = segment
                        .bytes(offset + header.payload_offset(), payload_len)
                        .ok_or("payload runs past the end of the segment")?;
                    if Checksum::of(payload) != checksum {
                        return Err("payload fails its crc32 (torn write)");
                    }
                }
                // A data object is a segment holding the one put frame,
                // right after its header.
                let location = match frame.data_object()? {
                    (Some(data), _) => Location {
                        segment: data,
                        frame_offset: SEGMENT_HEADER_LEN,
                    },
                    (None, _) => location,
                };
                let (version, described) = frame.put_version()?;
                let described =
                    Described::decode(described).map_err(|_| "frame metadata does not decode")?;
                let record =
                    Record::new(version, location, codec, payload_len, checksum, described);
                Some(Change::Put {
                    key: frame.key,
                    seq: header.seq,
                    record,
                    moved,
                })
            }
            FrameKind::Delete { .. } => Some(Change::Delete {
                key: frame.key,
                seq: header.seq,
                below: frame.delete_bound()?,
            }),
            FrameKind::Commit { first_seq, changes } => {
                committed = self.commit(header, first_seq, changes);
                None
            }
        };
        self.last_seq = header.seq;
        self.scan.max_seq = header.seq;
        if let Some(change) = change {
            self.push(header.seq, change);
        } else if committed {
            self.scan.last_committed = Some(FrameRef {
                segment: segment.id(),
                offset,
                seq: header.seq,
                end,
            });
        }
        Ok((end, committed))
    }

    fn push(&mut self, seq: u64, change: Change<'a>) {
        match &mut self.pending {
            Some(pending) if pending.last_seq + 1 == seq => {
                pending.last_seq = seq;
                pending.changes.push(change);
            }
            _ => {
                self.drop_pending();
                self.pending = Some(Pending {
                    first_seq: seq,
                    last_seq: seq,
                    changes: vec![change],
                });
            }
        }
    }

    /// Applies the pending batch if this commit frame completes it: the
    /// commit names its first change and their count, and those must be the
    /// last frames read, with consecutive sequence numbers. Changes read before
    /// them belong to a batch that never committed (its frames can end just
    /// where a later batch starts, with the next sequence number, when an open
    /// cut the rest of it away): they are dropped.
    fn commit(&mut self, header: FrameHeader, first_seq: u64, changes: u32) -> bool {
        let Some(mut pending) = self.pending.take() else {
            return false;
        };
        let complete = pending.last_seq + 1 == header.seq
            && first_seq >= pending.first_seq
            && header.seq.checked_sub(first_seq) == Some(u64::from(changes));
        if !complete {
            self.scan.uncommitted += 1;
            return false;
        }
        let stale = usize::try_from(first_seq - pending.first_seq).unwrap_or(usize::MAX);
        if stale > 0 {
            self.scan.uncommitted += 1;
        }
        let batch = pending.changes.split_off(stale.min(pending.changes.len()));
        self.scan.batches += 1;
        (self.apply)(batch);
        true
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::codec::Codec;
    use crate::io::{FileIo, OsFileIo};
    use crate::log::align64;
    use crate::record::Described;

    /// Writes frames back to back after the segment header.
    fn segment_with(frames: &[(u64, FrameKind, &[u8])]) -> (tempfile::TempDir, Arc<Segment>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let (segment, file) = Segment::create(&OsFileIo, dir.path(), 1, 1 << 16).expect("create");
        let described = Described {
            created_at: chrono::DateTime::from_timestamp_micros(0).expect("epoch"),
            data_version: None,
            metadata: std::collections::BTreeMap::new(),
        }
        .encode();
        let mut offset = SEGMENT_HEADER_LEN;
        for &(seq, kind, key) in frames {
            let is_put = matches!(kind, FrameKind::Put { .. });
            let header = FrameHeader {
                seq,
                kind,
                key_len: key.len() as u32,
                described_len: if is_put { described.len() as u32 } else { 0 },
            };
            let mut bytes = header.encode(key, if is_put { &described } else { &[] });
            if let FrameKind::Put { payload_len, .. } = kind {
                bytes.resize(bytes.len() + align64(payload_len) as usize, 0);
            }
            OsFileIo
                .write_at(&file, segment.path(), &bytes, offset)
                .expect("write");
            offset += bytes.len() as u64;
        }
        (dir, Arc::new(segment))
    }

    fn put(len: u64) -> FrameKind {
        FrameKind::Put {
            codec: Codec::Raw,
            payload_len: len,
            checksum: Checksum::of(&vec![0u8; len as usize]),
            moved: false,
            external: false,
        }
    }

    fn replayed_keys(segment: &Arc<Segment>) -> (Vec<Vec<u8>>, LogScan) {
        let mut keys = Vec::new();
        let segments = [Arc::clone(segment)];
        let scan = replay(&segments, None, true, |changes| {
            keys.extend(changes.iter().map(|c| c.key().to_vec()));
        })
        .expect("replay");
        (keys, scan)
    }

    #[test]
    fn a_committed_batch_right_after_uncommitted_frames_with_the_next_numbers_counts() {
        let commit = |first_seq, changes| FrameKind::Commit { first_seq, changes };
        let (_dir, segment) = segment_with(&[
            (1, put(3), b"a"),
            (2, commit(1, 1), b""),
            (5, put(3), b"stale"),
            (6, put(3), b"stale2"),
            (7, put(3), b"b"),
            (8, FrameKind::Delete { carried: false }, b"a"),
            (9, commit(7, 2), b""),
        ]);
        let (keys, scan) = replayed_keys(&segment);
        assert_eq!(keys, vec![b"a".to_vec(), b"b".to_vec(), b"a".to_vec()]);
        assert_eq!((scan.batches, scan.uncommitted), (2, 1));
        assert_eq!(scan.last_committed.map(|f| f.seq), Some(9));
    }

    #[test]
    fn a_commit_naming_other_frames_applies_nothing() {
        let commit = |first_seq, changes| FrameKind::Commit { first_seq, changes };
        for bad in [commit(3, 1), commit(2, 2), commit(9, 0), commit(1, 2)] {
            let (_dir, segment) =
                segment_with(&[(1, put(1), b"a"), (2, put(1), b"b"), (3, bad, b"")]);
            let (keys, scan) = replayed_keys(&segment);
            let applied = matches!(
                bad,
                FrameKind::Commit {
                    first_seq: 1,
                    changes: 2
                }
            );
            assert_eq!(keys.is_empty(), !applied, "{bad:?}");
            assert_eq!(scan.batches, u64::from(applied), "{bad:?}");
        }
    }
}
