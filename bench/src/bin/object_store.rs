//! The store on object storage against the local store, with a moto S3 server
//! on loopback (issue 14):
//!
//! ```text
//! bash .ci/s3-moto cargo run --release -p tessera-bench --features object-store --bin object_store_bench
//! ```
//!
//! `.ci/s3-moto` starts moto on 127.0.0.1, creates the bucket, sets the `AWS_*`
//! environment and `TESSERA_S3_BUCKET`, and stops the server after. Prints a
//! Markdown table: 1 MiB and 64 MiB writes and reads (a cold read fetches the
//! log object into an empty cache; a warm read maps the cached file), commits
//! per second from 1 and 4 writer processes, and the `PUT`/`GET`/`LIST`
//! requests each operation made (and the multipart uploads and parts of a
//! value over the large-value threshold), counted by a wrapper around the S3
//! client. `TESSERA_BENCH_LARGE_VALUE_THRESHOLD=<bytes>` overrides the
//! large-value threshold (a 64 MiB value in one `PUT` with
//! `18446744073709551615`).
#![deny(unsafe_code)]

use std::fmt;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::stream::BoxStream;
use tessera_engine::object_store::aws::AmazonS3Builder;
use tessera_engine::object_store::path::Path as ObjectPath;
use tessera_engine::object_store::{
    self, CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, UploadPart,
};
use tessera_engine::{AssetKey, PartitionKey, Store};

const CHILD: &str = "TESSERA_BENCH_CHILD_PREFIX";
const SMALL_COMMITS: u32 = 200;

type Failure = Box<dyn std::error::Error>;

/// An S3 client that counts the requests going through it.
#[derive(Debug)]
struct Counting {
    inner: Arc<dyn ObjectStore>,
    puts: AtomicU64,
    gets: AtomicU64,
    lists: AtomicU64,
    /// Multipart uploads started (large values' data objects).
    uploads: Arc<AtomicU64>,
    /// Parts uploaded by them.
    parts: Arc<AtomicU64>,
}

/// A multipart upload that counts its parts.
#[derive(Debug)]
struct CountingUpload {
    inner: Box<dyn MultipartUpload>,
    parts: Arc<AtomicU64>,
}

#[async_trait::async_trait]
impl MultipartUpload for CountingUpload {
    fn put_part(&mut self, data: PutPayload) -> UploadPart {
        self.parts.fetch_add(1, Ordering::SeqCst);
        self.inner.put_part(data)
    }

    async fn complete(&mut self) -> object_store::Result<PutResult> {
        self.inner.complete().await
    }

    async fn abort(&mut self) -> object_store::Result<()> {
        self.inner.abort().await
    }
}

impl fmt::Display for Counting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Counting({})", self.inner)
    }
}

impl Counting {
    /// (PUTs, GETs, LISTs, multipart uploads, their parts) so far.
    fn counts(&self) -> [u64; 5] {
        [
            &self.puts,
            &self.gets,
            &self.lists,
            &*self.uploads,
            &*self.parts,
        ]
        .map(|c| c.load(Ordering::SeqCst))
    }
}

#[async_trait::async_trait]
impl ObjectStore for Counting {
    async fn put_opts(
        &self,
        location: &ObjectPath,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        self.puts.fetch_add(1, Ordering::SeqCst);
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &ObjectPath,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        self.uploads.fetch_add(1, Ordering::SeqCst);
        let inner = self.inner.put_multipart_opts(location, opts).await?;
        Ok(Box::new(CountingUpload {
            inner,
            parts: Arc::clone(&self.parts),
        }))
    }

    async fn get_opts(
        &self,
        location: &ObjectPath,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        self.inner.get_opts(location, options).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<ObjectPath>>,
    ) -> BoxStream<'static, object_store::Result<ObjectPath>> {
        self.inner.delete_stream(locations)
    }

    fn list(
        &self,
        prefix: Option<&ObjectPath>,
    ) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.lists.fetch_add(1, Ordering::SeqCst);
        self.inner.list(prefix)
    }

    async fn list_with_delimiter(
        &self,
        prefix: Option<&ObjectPath>,
    ) -> object_store::Result<ListResult> {
        self.lists.fetch_add(1, Ordering::SeqCst);
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(
        &self,
        from: &ObjectPath,
        to: &ObjectPath,
        options: CopyOptions,
    ) -> object_store::Result<()> {
        self.inner.copy_opts(from, to, options).await
    }
}

fn bucket() -> Result<String, Failure> {
    std::env::var("TESSERA_S3_BUCKET")
        .map_err(|_| "TESSERA_S3_BUCKET is not set: run through .ci/s3-moto".into())
}

fn unique_prefix(name: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("bench-{name}-{}-{nanos}", std::process::id())
}

fn counting_s3() -> Result<Arc<Counting>, Failure> {
    // The S3 client's TLS needs a process-wide crypto provider (ring, as the
    // engine installs for s3:// addresses); one installed before stays.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let s3 = AmazonS3Builder::from_env()
        .with_bucket_name(bucket()?)
        .build()?;
    Ok(Arc::new(Counting {
        inner: Arc::new(s3),
        puts: AtomicU64::new(0),
        gets: AtomicU64::new(0),
        lists: AtomicU64::new(0),
        uploads: Arc::default(),
        parts: Arc::default(),
    }))
}

/// Overrides the large-value threshold (bytes) of every store the bench
/// opens, to compare a single `PUT` with a multipart upload in one setting.
const THRESHOLD: &str = "TESSERA_BENCH_LARGE_VALUE_THRESHOLD";

fn open_remote(s3: &Arc<Counting>, prefix: &str, cache: &Path) -> Result<Store, Failure> {
    let store: Arc<dyn ObjectStore> = s3.clone();
    let mut builder = Store::builder(cache).object_store(store, prefix);
    if let Ok(threshold) = std::env::var(THRESHOLD) {
        builder = builder.remote_large_value_threshold(threshold.parse()?);
    }
    Ok(builder.open()?)
}

fn asset() -> AssetKey {
    AssetKey::new(["bench"]).expect("a valid asset key")
}

fn partition(n: u32) -> PartitionKey {
    PartitionKey::new(format!("p{n:05}")).expect("a valid partition key")
}

/// One table row: what, where, the median time, and the requests of one run.
struct Row {
    operation: String,
    backend: &'static str,
    median: Duration,
    requests: Option<String>,
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Writes and reads of `size` bytes, `runs` times each, local and on S3.
fn sizes(size: usize, runs: u32, rows: &mut Vec<Row>) -> Result<(), Failure> {
    let label = if size >= 1 << 20 {
        format!("{} MiB", size >> 20)
    } else {
        format!("{size} B")
    };
    let payload = vec![7u8; size];
    let dir = tempfile::tempdir()?;
    let local = Store::open(dir.path().join("local"))?;
    let (mut put, mut first, mut again) = (Vec::new(), Vec::new(), Vec::new());
    for n in 0..runs {
        let started = Instant::now();
        local.put(&asset(), &partition(n), payload.as_slice())?;
        put.push(started.elapsed());
        for samples in [&mut first, &mut again] {
            let started = Instant::now();
            let blob = local.get(&asset(), &partition(n))?.ok_or("missing")?;
            samples.push(started.elapsed());
            assert_eq!(blob.len(), size);
        }
    }
    let local_row = |operation: String, samples: Vec<Duration>| Row {
        operation,
        backend: "local",
        median: median(samples),
        requests: None,
    };
    rows.push(local_row(format!("write {label}"), put));
    rows.push(local_row(
        format!("read {label}, first after the write (mapped)"),
        first,
    ));
    rows.push(local_row(format!("read {label} again (mapped)"), again));

    let s3 = counting_s3()?;
    let prefix = unique_prefix(&format!("size{size}"));
    let writer = open_remote(&s3, &prefix, &dir.path().join("writer"))?;
    let mut samples: [Vec<Duration>; 3] = Default::default();
    let mut requests = [[0u64; 5]; 3];
    for n in 0..runs {
        let before = s3.counts();
        let started = Instant::now();
        writer.put(&asset(), &partition(n), payload.as_slice())?;
        samples[0].push(started.elapsed());
        requests[0] = difference(s3.counts(), before);
        writer.checkpoint()?;
        // A reader with an empty cache: it opens from the checkpoint, so its
        // first read fetches the log object, its second maps the cached file.
        let reader = open_remote(&s3, &prefix, &dir.path().join(format!("reader-{n}")))?;
        for read in 1..3 {
            let before = s3.counts();
            let started = Instant::now();
            let blob = reader.get(&asset(), &partition(n))?.ok_or("missing")?;
            samples[read].push(started.elapsed());
            requests[read] = difference(s3.counts(), before);
            assert_eq!(blob.len(), size);
        }
    }
    let operations = [
        format!("write {label}"),
        format!("read {label}, cold cache"),
        format!("read {label} again, warm cache (mapped)"),
    ];
    for ((operation, samples), requests) in operations.into_iter().zip(samples).zip(requests) {
        rows.push(Row {
            operation,
            backend: "S3 (moto)",
            median: median(samples),
            requests: Some(shown(requests)),
        });
    }
    Ok(())
}

fn shown([puts, gets, lists, uploads, parts]: [u64; 5]) -> String {
    let single = format!("{puts} / {gets} / {lists}");
    if uploads == 0 {
        return single;
    }
    format!("{single} + {uploads} multipart upload ({parts} parts)")
}

fn difference(after: [u64; 5], before: [u64; 5]) -> [u64; 5] {
    [0, 1, 2, 3, 4].map(|i| after[i] - before[i])
}

/// A writer process: `SMALL_COMMITS` puts of 1 KiB to the prefix in `CHILD`;
/// prints the requests its commits made.
fn child_writer(prefix: &str, writer: u32) -> Result<(), Failure> {
    let s3 = counting_s3()?;
    let cache = tempfile::tempdir()?;
    let store = open_remote(&s3, prefix, cache.path())?;
    let before = s3.counts();
    for n in 0..SMALL_COMMITS {
        store.put(&asset(), &partition(writer * 10_000 + n), vec![1u8; 1024])?;
    }
    let [puts, gets, lists, ..] = difference(s3.counts(), before);
    println!("requests {puts} {gets} {lists}");
    Ok(())
}

/// Commits per second of 1 KiB puts from `writers` processes at once.
fn commits_per_second(writers: u32, rows: &mut Vec<Row>) -> Result<(), Failure> {
    let prefix = unique_prefix(&format!("writers{writers}"));
    let s3 = counting_s3()?;
    let cache = tempfile::tempdir()?;
    drop(open_remote(&s3, &prefix, cache.path())?);
    let exe = std::env::current_exe()?;
    let started = Instant::now();
    let children = (0..writers)
        .map(|writer| {
            Command::new(&exe)
                .env(CHILD, &prefix)
                .arg(writer.to_string())
                .stdout(std::process::Stdio::piped())
                .spawn()
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut requests = [0u64; 3];
    for child in children {
        let output = child.wait_with_output()?;
        if !output.status.success() {
            return Err("a writer process failed".into());
        }
        let text = String::from_utf8_lossy(&output.stdout);
        let counts = text
            .lines()
            .find_map(|line| line.strip_prefix("requests "))
            .ok_or("a writer process reported no requests")?;
        for (total, count) in requests.iter_mut().zip(counts.split(' ')) {
            *total += count.parse::<u64>()?;
        }
    }
    let elapsed = started.elapsed();
    let commits = writers * SMALL_COMMITS;
    let reader = open_remote(&s3, &prefix, &cache.path().join("check"))?;
    if reader.list_partitions(&asset())?.len() != commits as usize {
        return Err("commits were lost".into());
    }
    rows.push(Row {
        operation: format!(
            "{:.0} commits/s: {commits} puts of 1 KiB from {writers} process(es), start and \
             open included; time per commit",
            f64::from(commits) / elapsed.as_secs_f64()
        ),
        backend: "S3 (moto)",
        median: elapsed / commits,
        requests: Some(format!(
            "{:.2} / {:.2} / 0 per commit",
            requests[0] as f64 / f64::from(commits),
            requests[1] as f64 / f64::from(commits)
        )),
    });
    Ok(())
}

/// Commits per second of 1 KiB puts from `threads` threads sharing one
/// handle (their batches grouped into shared log objects while a commit is
/// in flight).
fn commits_from_threads(threads: u32, rows: &mut Vec<Row>) -> Result<(), Failure> {
    let prefix = unique_prefix(&format!("threads{threads}"));
    let s3 = counting_s3()?;
    let cache = tempfile::tempdir()?;
    let store = open_remote(&s3, &prefix, cache.path())?;
    let before = s3.counts();
    let started = Instant::now();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|thread| {
                let store = &store;
                scope.spawn(move || {
                    (0..SMALL_COMMITS).try_for_each(|n| {
                        store.put(&asset(), &partition(thread * 10_000 + n), vec![1u8; 1024])
                    })
                })
            })
            .collect();
        workers.into_iter().try_for_each(|worker| {
            worker
                .join()
                .map_err(|_| "a writer thread panicked")?
                .map_err(|e| e.to_string())
        })
    })?;
    let elapsed = started.elapsed();
    let [puts, gets, ..] = difference(s3.counts(), before);
    let commits = threads * SMALL_COMMITS;
    if store.list_partitions(&asset())?.len() != commits as usize {
        return Err("commits were lost".into());
    }
    rows.push(Row {
        operation: format!(
            "{:.0} commits/s: {commits} puts of 1 KiB from {threads} threads of one process \
             (group commit); time per commit",
            f64::from(commits) / elapsed.as_secs_f64()
        ),
        backend: "S3 (moto)",
        median: elapsed / commits,
        requests: Some(format!(
            "{:.2} / {:.2} / 0 per commit",
            puts as f64 / f64::from(commits),
            gets as f64 / f64::from(commits)
        )),
    });
    Ok(())
}

fn main() -> Result<(), Failure> {
    if let Ok(prefix) = std::env::var(CHILD) {
        let writer = std::env::args().nth(1).ok_or("writer number")?.parse()?;
        return child_writer(&prefix, writer);
    }
    let mut rows = Vec::new();
    sizes(1 << 20, 7, &mut rows)?;
    sizes(64 << 20, 3, &mut rows)?;
    commits_per_second(1, &mut rows)?;
    commits_per_second(4, &mut rows)?;
    commits_from_threads(8, &mut rows)?;
    println!("| operation | backend | median time | PUT / GET / LIST of one |");
    println!("|---|---|---|---|");
    for row in rows {
        let requests = row.requests.unwrap_or_default();
        println!(
            "| {} | {} | {:.3} ms | {requests} |",
            row.operation,
            row.backend,
            row.median.as_secs_f64() * 1000.0
        );
    }
    Ok(())
}
