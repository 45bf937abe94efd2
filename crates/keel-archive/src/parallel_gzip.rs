//! Parallel, deterministic gzip in the manner of pigz: one gzip member (RFC 1952) whose deflate
//! stream (RFC 1951) is made of fixed-size blocks compressed on worker threads.
//!
//! Why the bytes never depend on the number of threads, nor on how callers write or flush:
//! - block boundaries fall every [`BLOCK_SIZE`] bytes of input, counted from the start of the
//!   stream, whatever the sizes of the `write` calls ([`Write::flush`] does not cut a block);
//! - a block's deflate output depends only on the level, the block's bytes and its dictionary,
//!   which is the last 32 KiB of the previous block's input (the deflate window, §3.2.2);
//! - blocks are written in input order; a worker count only changes which thread computes one.
//!
//! Why the blocks concatenate into one valid deflate stream: each block but the last ends with a
//! sync flush, which closes the open deflate block (BFINAL clear) and byte-aligns the output with
//! an empty stored block (§3.2.4); the last block is finished (BFINAL set). A block compressed
//! with a dictionary may refer back up to 32 KiB into it, and in the concatenated stream those
//! 32 KiB are exactly what the decoder produced just before. The CRC-32 of each block is
//! computed by its worker and combined in order (zlib's `crc32_combine`).
//!
//! Memory is bounded: at most two blocks per worker are in flight, plus the one being filled;
//! buffers are recycled.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use flate2::{Compress, Crc, FlushCompress, Status};

/// Input bytes per block. Part of the output format: changing it changes every blob (and so
/// every layer digest) keel writes. 1 MiB, as pigz's default 128 KiB blocks would cost ratio
/// and per-block overhead with no gain on few cores.
pub(crate) const BLOCK_SIZE: usize = 1 << 20;

/// The deflate window: the dictionary handed to the next block (RFC 1951 §3.2.2, distances of at
/// most 32768 bytes).
const WINDOW: usize = 32 * 1024;

/// How much output space deflate gets at a time (see [`deflate_block`]).
const OUTPUT_STEP: usize = 128 * 1024;

/// Blocks in flight per worker: one being compressed, one queued, so no worker waits for the
/// writer thread between two blocks.
const IN_FLIGHT_PER_WORKER: usize = 2;

/// A gzip writer that compresses on `threads` worker threads. Call [`ParallelGzEncoder::finish`]
/// to write the trailer; dropping it without that leaves a truncated stream.
pub(crate) struct ParallelGzEncoder<W: Write> {
    inner: W,
    level: u32,
    block_size: usize,
    /// The block being filled.
    block: Vec<u8>,
    /// The last [`WINDOW`] bytes of the previous block: the next block's dictionary.
    dictionary: Vec<u8>,
    /// Replies of the blocks handed out, oldest first: they are written in this order.
    pending: VecDeque<Receiver<io::Result<Deflated>>>,
    max_pending: usize,
    /// Spare block-sized buffers (inputs and outputs of written blocks) and spare dictionaries,
    /// reused for the next blocks.
    spare_blocks: Vec<Vec<u8>>,
    spare_windows: Vec<Vec<u8>>,
    crc: Crc,
    header_written: bool,
    pool: Pool,
}

impl<W: Write> ParallelGzEncoder<W> {
    /// A writer at `level` (0-9) with `threads` workers (at least one is started).
    pub(crate) fn new(inner: W, level: u32, threads: usize) -> io::Result<Self> {
        Self::with_block_size(inner, level, threads, BLOCK_SIZE)
    }

    /// As [`ParallelGzEncoder::new`] with another block size (tests use small blocks to cover
    /// many boundaries with little data).
    pub(crate) fn with_block_size(
        inner: W,
        level: u32,
        threads: usize,
        block_size: usize,
    ) -> io::Result<Self> {
        if level > 9 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("gzip level {level} is not in 0-9"),
            ));
        }
        let threads = threads.max(1);
        Ok(ParallelGzEncoder {
            inner,
            level,
            block_size: block_size.max(1),
            block: Vec::new(),
            dictionary: Vec::with_capacity(WINDOW),
            pending: VecDeque::new(),
            max_pending: threads * IN_FLIGHT_PER_WORKER,
            spare_blocks: Vec::new(),
            spare_windows: Vec::new(),
            crc: Crc::new(),
            header_written: false,
            pool: Pool::start(level, threads)?,
        })
    }

    /// Compress what is left, write the trailer (CRC-32 and size modulo 2^32, RFC 1952 §2.3.1),
    /// stop the workers and return the underlying writer.
    pub(crate) fn finish(mut self) -> io::Result<W> {
        // The last block may be empty (no input, or input a multiple of the block size): it then
        // deflates to an empty final block, so the stream is still properly ended.
        let last = std::mem::take(&mut self.block);
        self.submit(last, true)?;
        while !self.pending.is_empty() {
            self.write_oldest()?;
        }
        let mut trailer = [0u8; 8];
        trailer[..4].copy_from_slice(&self.crc.sum().to_le_bytes());
        trailer[4..].copy_from_slice(&self.crc.amount().to_le_bytes());
        self.inner.write_all(&trailer)?;
        self.inner.flush()?;
        self.pool.stop();
        Ok(self.inner)
    }

    /// The 10-byte member header (RFC 1952 §2.3): deflate, no flags, MTIME 0 (none), XFL as Go's
    /// `compress/gzip` sets it (2 for level 9, 4 for level 1), OS 255 (unknown), so the header
    /// never depends on the host or the time.
    fn write_header(&mut self) -> io::Result<()> {
        let xfl = match self.level {
            9 => 2,
            1 => 4,
            _ => 0,
        };
        self.inner
            .write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 255])?;
        self.header_written = true;
        Ok(())
    }

    /// Hand `data` to the workers, after writing out the oldest block if too many are in flight.
    fn submit(&mut self, data: Vec<u8>, last: bool) -> io::Result<()> {
        if self.pending.len() >= self.max_pending {
            self.write_oldest()?;
        }
        // This block's dictionary is the previous block's tail; keep this block's for the next.
        let mut next_dictionary = self.spare_windows.pop().unwrap_or_default();
        next_dictionary.clear();
        let dictionary = std::mem::replace(&mut self.dictionary, next_dictionary);
        self.dictionary
            .extend_from_slice(&data[data.len().saturating_sub(WINDOW)..]);
        let (reply, receiver) = mpsc::sync_channel(1);
        let job = Job {
            output: self.spare_blocks.pop().unwrap_or_default(),
            data,
            dictionary,
            last,
            reply,
        };
        self.pool.send(job)?;
        self.pending.push_back(receiver);
        Ok(())
    }

    /// Wait for the oldest block in flight and write it out.
    fn write_oldest(&mut self) -> io::Result<()> {
        let Some(receiver) = self.pending.pop_front() else {
            return Ok(());
        };
        let deflated = receiver.recv().map_err(|_| worker_gone())??;
        self.write_deflated(deflated)
    }

    /// Write out the oldest blocks that are already compressed, without waiting.
    fn write_ready(&mut self) -> io::Result<()> {
        while let Some(receiver) = self.pending.front() {
            let deflated = match receiver.try_recv() {
                Ok(result) => result?,
                Err(mpsc::TryRecvError::Empty) => return Ok(()),
                Err(mpsc::TryRecvError::Disconnected) => return Err(worker_gone()),
            };
            self.pending.pop_front();
            self.write_deflated(deflated)?;
        }
        Ok(())
    }

    fn write_deflated(&mut self, deflated: Deflated) -> io::Result<()> {
        if !self.header_written {
            self.write_header()?;
        }
        self.inner.write_all(&deflated.output)?;
        self.crc.combine(&deflated.crc);
        // Keep as many as the blocks in flight can use; free the rest.
        for block in [deflated.output, deflated.data] {
            if self.spare_blocks.len() < 2 * (self.max_pending + 1) {
                self.spare_blocks.push(block);
            }
        }
        if self.spare_windows.len() < self.max_pending + 1 {
            self.spare_windows.push(deflated.dictionary);
        }
        Ok(())
    }
}

impl<W: Write> Write for ParallelGzEncoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.block.capacity() == 0 {
            let mut block = self.spare_blocks.pop().unwrap_or_default();
            block.clear();
            block.reserve_exact(self.block_size);
            self.block = block;
        }
        let room = self.block_size - self.block.len();
        let n = room.min(buf.len());
        self.block.extend_from_slice(&buf[..n]);
        if self.block.len() == self.block_size {
            let full = std::mem::take(&mut self.block);
            self.submit(full, false)?;
        }
        Ok(n)
    }

    /// Writes out the blocks already compressed and flushes the underlying writer. It neither
    /// cuts the block being filled (the output would depend on when callers flush) nor waits for
    /// the blocks in flight (a caller flushing often would stall the workers).
    fn flush(&mut self) -> io::Result<()> {
        self.write_ready()?;
        self.inner.flush()
    }
}

/// A block to compress, with the buffers the worker fills and hands back.
struct Job {
    data: Vec<u8>,
    dictionary: Vec<u8>,
    /// Where the deflate bytes go (a recycled buffer).
    output: Vec<u8>,
    last: bool,
    reply: SyncSender<io::Result<Deflated>>,
}

/// A compressed block: its deflate bytes and the CRC-32 of its input, with the input and the
/// dictionary handed back for reuse.
struct Deflated {
    output: Vec<u8>,
    crc: Crc,
    data: Vec<u8>,
    dictionary: Vec<u8>,
}

/// The worker threads, fed from one queue. Dropping the pool stops and joins them.
struct Pool {
    jobs: Option<Sender<Job>>,
    workers: Vec<JoinHandle<()>>,
}

impl Pool {
    fn start(level: u32, threads: usize) -> io::Result<Pool> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let mut pool = Pool {
            jobs: Some(jobs),
            workers: Vec::with_capacity(threads),
        };
        for i in 0..threads {
            let queue = Arc::clone(&queue);
            let worker = std::thread::Builder::new()
                .name(format!("keel-gzip-{i}"))
                .spawn(move || work(&queue, level))?;
            pool.workers.push(worker);
        }
        Ok(pool)
    }

    fn send(&self, job: Job) -> io::Result<()> {
        self.jobs
            .as_ref()
            .ok_or_else(worker_gone)?
            .send(job)
            .map_err(|_| worker_gone())
    }

    /// Close the queue and wait for the workers to return.
    fn stop(&mut self) {
        self.jobs = None;
        for worker in self.workers.drain(..) {
            // A worker that panicked has already failed its block's reply, which the writer
            // reported; nothing more to say here.
            let _ = worker.join();
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A worker: take the next job off the shared queue until it is closed.
fn work(queue: &Mutex<Receiver<Job>>, level: u32) {
    loop {
        let job = {
            let Ok(queue) = queue.lock() else { return };
            match queue.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        let Job {
            data,
            dictionary,
            mut output,
            last,
            reply,
        } = job;
        // A fresh deflate state for every block, never `reset()`: zlib-rs's reset clears the
        // hash heads but keeps the window and `prev` arrays of the block compressed before, and
        // they can change the output (seen: 12 of 40 runs of the thread-count test gave other
        // bytes when workers reused a reset state; none of 50 runs, 400 multi-thread
        // comparisons, with fresh ones). A fresh state starts from a zeroed window, so a block's
        // bytes do not depend on which worker compressed what before. It costs about half a MiB
        // of allocation per 1 MiB block, under 1% of the time.
        let mut deflate = Compress::new(flate2::Compression::new(level), false);
        let result = deflate_block(&mut deflate, &data, &dictionary, &mut output, last).map(|()| {
            let mut crc = Crc::new();
            crc.update(&data);
            Deflated {
                output,
                crc,
                data,
                dictionary,
            }
        });
        // The writer may be gone (dropped on an error): then nobody wants the block.
        let _ = reply.send(result);
    }
}

/// Raw-deflate `data` into `output` with `dictionary` as the preceding window, ending with a
/// sync flush, or with the final block when `last`. `deflate` must be a fresh state.
///
/// The output space handed to deflate grows in fixed steps of [`OUTPUT_STEP`] bytes, never
/// from a recycled buffer's capacity: zlib cuts stored blocks (level 0) to the output space
/// available and repeats a flush that exactly fills it, so output space that varied from run to
/// run could change the bytes. Fixed steps make it a function of the block's bytes alone, and
/// only touch the memory the output needs.
fn deflate_block(
    deflate: &mut Compress,
    data: &[u8],
    dictionary: &[u8],
    output: &mut Vec<u8>,
    last: bool,
) -> io::Result<()> {
    if !dictionary.is_empty() {
        deflate
            .set_dictionary(dictionary)
            .map_err(io::Error::other)?;
    }
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    output.clear();
    output.resize(OUTPUT_STEP, 0);
    let (mut consumed, mut written) = (0, 0);
    loop {
        let (in_before, out_before) = (deflate.total_in(), deflate.total_out());
        let status = deflate
            .compress(&data[consumed..], &mut output[written..], flush)
            .map_err(io::Error::other)?;
        let taken = deflate.total_in() - in_before;
        let made = deflate.total_out() - out_before;
        consumed += usize::try_from(taken).map_err(io::Error::other)?;
        written += usize::try_from(made).map_err(io::Error::other)?;
        let done = match status {
            Status::StreamEnd => true,
            // zlib's contract for a flush: it is complete once all input is taken and the call
            // left output space unused (deflate(3), Z_SYNC_FLUSH).
            Status::Ok | Status::BufError => {
                !last && consumed == data.len() && written < output.len()
            }
        };
        if done {
            output.truncate(written);
            return Ok(());
        }
        if taken == 0 && made == 0 && written < output.len() {
            return Err(io::Error::other("deflate made no progress on a block"));
        }
        if written == output.len() {
            output.resize(output.len() + OUTPUT_STEP, 0);
        }
    }
}

fn worker_gone() -> io::Error {
    io::Error::other("a gzip compression thread stopped unexpectedly")
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn sample(len: usize) -> Vec<u8> {
        // Compressible but not trivial: repeated phrases with a counter in them.
        let mut out = Vec::with_capacity(len + 64);
        let mut i = 0u64;
        while out.len() < len {
            out.extend_from_slice(format!("line {} of a layer, {}\n", i % 977, i * 7).as_bytes());
            i += 1;
        }
        out.truncate(len);
        out
    }

    fn encode(data: &[u8], level: u32, threads: usize, block: usize, chunk: usize) -> Vec<u8> {
        let mut w = ParallelGzEncoder::with_block_size(Vec::new(), level, threads, block).unwrap();
        for piece in data.chunks(chunk.max(1)) {
            w.write_all(piece).unwrap();
        }
        w.finish().unwrap()
    }

    fn decode(blob: &[u8]) -> Vec<u8> {
        // GzDecoder reads one member only: proves the output is a single member.
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(blob)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn round_trips_at_every_level_across_block_boundaries() {
        let data = sample(300_000);
        for level in 0..=9 {
            let blob = encode(&data, level, 2, 64 * 1024, 10_000);
            assert_eq!(decode(&blob), data, "level {level}");
        }
    }

    #[test]
    fn lengths_at_and_around_block_boundaries_round_trip() {
        let block = 4096;
        for len in [0, 1, block - 1, block, block + 1, 2 * block, 3 * block + 7] {
            let data = sample(len);
            let blob = encode(&data, 6, 2, block, 1000);
            assert_eq!(decode(&blob), data, "length {len}");
        }
    }

    #[test]
    fn output_does_not_depend_on_threads_or_write_sizes() {
        let data = sample(500_000);
        let reference = encode(&data, 6, 1, 32 * 1024, data.len());
        // Which worker takes which block changes from run to run: repeat to catch output that
        // depends on it.
        for threads in [2, 3, 4, 8, 2, 3, 2, 3] {
            for chunk in [1, 100, 4096, 65_536 + 3] {
                // One-byte writes over the whole input are slow in debug builds: use a prefix.
                let (input, expected) = if chunk == 1 {
                    let part = &data[..70_000];
                    (part, encode(part, 6, 1, 32 * 1024, part.len()))
                } else {
                    (&data[..], reference.clone())
                };
                assert_eq!(
                    encode(input, 6, threads, 32 * 1024, chunk),
                    expected,
                    "{threads} threads, writes of {chunk}"
                );
            }
        }
    }

    #[test]
    fn flush_does_not_cut_a_block() {
        let data = sample(100_000);
        let mut w = ParallelGzEncoder::with_block_size(Vec::new(), 6, 2, 16 * 1024).unwrap();
        for piece in data.chunks(3000) {
            w.write_all(piece).unwrap();
            w.flush().unwrap();
        }
        assert_eq!(w.finish().unwrap(), encode(&data, 6, 2, 16 * 1024, 3000));
    }

    #[test]
    fn header_and_trailer_follow_rfc_1952() {
        let data = sample(50_000);
        let blob = encode(&data, 6, 2, 8192, 5000);
        assert_eq!(&blob[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
        let n = blob.len();
        let mut crc = Crc::new();
        crc.update(&data);
        assert_eq!(&blob[n - 8..n - 4], &crc.sum().to_le_bytes());
        assert_eq!(&blob[n - 4..], &(data.len() as u32).to_le_bytes());
        assert_eq!(encode(&data, 1, 1, 8192, 5000)[8], 4);
        assert_eq!(encode(&data, 9, 1, 8192, 5000)[8], 2);
    }

    #[test]
    fn dictionary_keeps_the_ratio_of_one_stream() {
        // 6,000 random bytes repeated: every block after the first repeats what the block
        // before it ended with, which only the dictionary can see. Without it each 8 KiB block
        // would store the 6,000 bytes again (about 25 times more output).
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let noise: Vec<u8> = (0..6000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let data = noise.repeat(33);
        let blocks = encode(&data, 6, 2, 8192, 8192).len();
        let whole = encode(&data, 6, 1, data.len() + 1, data.len()).len();
        assert!(
            (blocks as f64) < whole as f64 * 1.05,
            "{blocks} bytes in blocks, {whole} in one"
        );
    }

    #[test]
    fn rejects_level_above_nine() {
        assert!(ParallelGzEncoder::new(Vec::new(), 10, 1).is_err());
    }
}
