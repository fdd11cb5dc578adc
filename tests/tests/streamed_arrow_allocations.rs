//! A large Arrow write makes no copy of the partition on the heap: the IPC
//! file is encoded straight into the segment. A counting global allocator
//! measures the most bytes held at once during one 16 MiB `put_arrow`, for
//! each durability, and during the same output through `ArrowIoManager`,
//! against the same write through `Payload::arrow` (which encodes the file
//! into a heap buffer first, and must show it).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow_array::{Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use tessera_engine::{AssetKey, Durability, PartitionKey, Payload, Store};
use tessera_io_managers::{ArrowIoManager, IoManager, OutputContext};

/// The system allocator, keeping the bytes currently allocated and the
/// largest value that reached since the last reset.
struct PeakCounting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; the
// counters are only read by the test.
#[allow(unsafe_code, reason = "a counting global allocator")]
unsafe impl GlobalAlloc for PeakCounting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
        PEAK.fetch_max(now, Ordering::SeqCst);
        // SAFETY: the caller's layout is passed on as it is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
        // SAFETY: `ptr` was allocated by `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let now = CURRENT.fetch_add(new_size, Ordering::SeqCst) + new_size;
        PEAK.fetch_max(now, Ordering::SeqCst);
        // SAFETY: as for `alloc` and `dealloc`.
        let moved = unsafe { System.realloc(ptr, layout, new_size) };
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
        moved
    }
}

#[global_allocator]
static ALLOCATOR: PeakCounting = PeakCounting;

const PARTITION: usize = 16 << 20;

/// The most bytes held at once during `write`, above what was held before.
fn peak_during(write: impl FnOnce()) -> usize {
    let base = CURRENT.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    write();
    PEAK.load(Ordering::SeqCst).saturating_sub(base)
}

fn sixteen_mib() -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Int64, false)]));
    let rows = PARTITION / 8;
    let column = Int64Array::from_iter_values((0..rows as i64).map(|i| i ^ 0x5555));
    RecordBatch::try_new(schema, vec![Arc::new(column)]).expect("batch")
}

// One test in this binary: the counters are process-wide.
#[test]
fn a_16_mib_arrow_write_holds_no_copy_of_the_partition() {
    let batch = sixteen_mib();
    let asset = AssetKey::new(["alloc", "arrow"]).expect("asset");
    for durability in [Durability::Immediate, Durability::Buffered] {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(
            Store::builder(dir.path())
                .durability(durability)
                .open()
                .expect("open"),
        );
        // A first write sets up the segment, the index and the caches.
        store
            .put_arrow(
                &asset,
                &PartitionKey::new("warm").expect("key"),
                std::slice::from_ref(&batch),
            )
            .expect("warm-up");
        let day = PartitionKey::new("day").expect("key");
        let streamed = peak_during(|| {
            store
                .put_arrow(&asset, &day, std::slice::from_ref(&batch))
                .expect("streamed put");
        });
        let buffered_copy = peak_during(|| {
            let payload = Payload::arrow(std::slice::from_ref(&batch)).expect("encode");
            store
                .put(&asset, &day, payload)
                .expect("put of encoded bytes");
        });
        let manager = ArrowIoManager::new(Arc::clone(&store));
        let output = OutputContext::builder(asset.clone())
            .partition_key("2022-07-23")
            .build();
        let through_manager = peak_during(|| {
            manager
                .handle_output(&output, vec![batch.clone()])
                .expect("handle_output");
        });
        assert!(
            streamed < PARTITION / 8,
            "{durability:?}: a streamed 16 MiB write held {streamed} bytes at its peak"
        );
        assert!(
            through_manager < PARTITION / 8,
            "{durability:?}: a 16 MiB output through ArrowIoManager held {through_manager} \
             bytes at its peak"
        );
        let stored = store
            .get(&asset, &PartitionKey::new("2022-07-23").expect("key"))
            .expect("get")
            .expect("the manager's output is stored");
        assert_eq!(
            output
                .output_metadata()
                .get("tessera/byte_size")
                .map(ToString::to_string),
            Some(stored.len().to_string()),
            "{durability:?}: the byte size recorded is the stored length"
        );
        assert!(
            buffered_copy >= PARTITION,
            "{durability:?}: the encoded-first write held only {buffered_copy} bytes: \
             this test cannot see a copy"
        );
        let blob = store.get(&asset, &day).expect("get").expect("present");
        assert!(blob.len() >= PARTITION, "the partition was stored");
    }
}
