//! Layer compression: detection by magic bytes, streaming decompression of every format a pulled
//! or loaded layer may use, and deterministic compressors for the layers keel writes.
//!
//! Detection looks at content, not at the media type, as `docker load` does: a
//! `...tar+gzip` layer that is in fact plain tar must still apply, and `docker save` archives
//! carry no media types at all.

use std::fmt;
use std::io::{self, Cursor, Read, Write};

use crate::parallel_gzip::ParallelGzEncoder;

/// A compression format of a layer blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Compression {
    /// Plain tar.
    None,
    /// gzip (RFC 1952), possibly several members.
    Gzip,
    /// Zstandard (RFC 8878), possibly several frames.
    Zstd,
    /// xz (the .xz container of LZMA2).
    Xz,
    /// bzip2.
    Bzip2,
}

/// How many leading bytes [`Compression::detect`] needs to tell every format apart.
pub const MAGIC_LEN: usize = 6;

impl Compression {
    /// The format whose magic number starts `prefix` (plain tar when none matches).
    ///
    /// Magic numbers: gzip `1f 8b` (RFC 1952 §2.3.1), zstd frame `28 b5 2f fd` (RFC 8878 §3.1.1),
    /// xz `fd 37 7a 58 5a 00` (xz file format §2.1.1.1), bzip2 `BZh`.
    pub fn detect(prefix: &[u8]) -> Compression {
        if prefix.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if prefix.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else if prefix.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
            Compression::Xz
        } else if prefix.starts_with(b"BZh") {
            Compression::Bzip2
        } else {
            Compression::None
        }
    }

    /// The lower-case name (`gzip`, `zstd`, ...), as Docker prints it.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Xz => "xz",
            Compression::Bzip2 => "bzip2",
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A boxed decompressing reader, as [`decompress`] returns it.
pub type DecompressReader<'a> = Box<dyn Read + Send + 'a>;

/// Detect the compression of `reader` from its first bytes and return a reader of the
/// uncompressed stream, together with the format found.
///
/// The peeked bytes are replayed, so nothing is lost whatever the reader's read sizes are.
pub fn decompress<'a, R: Read + Send + 'a>(
    mut reader: R,
) -> io::Result<(Compression, DecompressReader<'a>)> {
    let mut magic = [0u8; MAGIC_LEN];
    let mut filled = 0;
    while filled < MAGIC_LEN {
        match reader.read(&mut magic[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let compression = Compression::detect(&magic[..filled]);
    let replayed = Cursor::new(magic).take(filled as u64).chain(reader);
    Ok((compression, decompress_as(compression, replayed)?))
}

/// A reader of the uncompressed stream of `reader`, compressed as `compression`.
pub fn decompress_as<'a, R: Read + Send + 'a>(
    compression: Compression,
    reader: R,
) -> io::Result<DecompressReader<'a>> {
    Ok(match compression {
        Compression::None => Box::new(reader),
        // Multi-member gzip (pigz, concatenated appends) is valid gzip: read every member.
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(reader)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(reader)?),
        Compression::Xz => Box::new(liblzma::read::XzDecoder::new_multi_decoder(reader)),
        Compression::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(reader)),
    })
}

/// What [`compress`] should write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CompressOptions {
    /// No compression: bytes pass through.
    None,
    /// Deterministic gzip at `level` (0-9): no mtime, no file name, OS byte 255 ("unknown"),
    /// exactly as Go's `compress/gzip` writes a layer, so the same tar gives the same blob.
    Gzip { level: u32 },
    /// Deterministic gzip at `level` (0-9) compressed on `threads` threads (0: one per available
    /// core, at most 8), pigz-style: fixed 1 MiB blocks, each deflated with the previous block's
    /// last 32 KiB as dictionary, written as one gzip member with the same header as [`Gzip`].
    /// The bytes depend on the input and the level only, never on `threads` or the machine;
    /// they differ from single-threaded [`Gzip`] output.
    ///
    /// [`Gzip`]: CompressOptions::Gzip
    ParallelGzip { level: u32, threads: u32 },
    /// zstd at `level` (1-22) with a content checksum. `workers` > 0 compresses in that many
    /// background threads; zstd's multithreaded output depends on the level but not on the number
    /// of workers, so blobs stay reproducible across machines with any `workers` >= 1.
    Zstd { level: i32, workers: u32 },
}

/// `ParallelGzip { threads: 0, .. }` starts one thread per core, at most this many: the single
/// thread that writes the tar (walk, read, diffID) produces about 800 MB/s of a real layer, which
/// 8 compressing threads at level 3 (about 110 MB/s each) already take. More would only hold
/// more blocks in memory (two of 1 MiB per thread).
const MAX_AUTO_GZIP_THREADS: usize = 8;

/// The gzip level of the layers keel writes by default. Docker and BuildKit write Go's default,
/// level 6; level 3 is the best ratio that still exports a real layer (Debian's minbase) at
/// 200 MB/s or more on 2 cores, for blobs 3-6% larger (issue 4; docs/benchmarks.md, "Layer
/// compression").
pub const LAYER_GZIP_LEVEL: u32 = 3;

impl Default for CompressOptions {
    /// Parallel gzip at [`LAYER_GZIP_LEVEL`] on every available core: a `tar+gzip` layer every
    /// registry and Docker reads, whose bytes do not depend on the machine.
    fn default() -> CompressOptions {
        CompressOptions::ParallelGzip {
            level: LAYER_GZIP_LEVEL,
            threads: 0,
        }
    }
}

/// A compressing writer; call [`CompressWriter::finish`] to write the trailer and get `W` back.
pub struct CompressWriter<W: Write> {
    inner: Inner<W>,
}

enum Inner<W: Write> {
    Plain(W),
    Gzip(flate2::write::GzEncoder<W>),
    ParallelGzip(ParallelGzEncoder<W>),
    Zstd(zstd::stream::write::Encoder<'static, W>),
}

/// Wrap `writer` so that what is written to it comes out compressed as `options` says.
pub fn compress<W: Write>(writer: W, options: CompressOptions) -> io::Result<CompressWriter<W>> {
    let inner = match options {
        CompressOptions::None => Inner::Plain(writer),
        CompressOptions::Gzip { level } => {
            if level > 9 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("gzip level {level} is not in 0-9"),
                ));
            }
            // GzBuilder writes mtime 0 and no name unless told otherwise; fix the OS byte too
            // (RFC 1952 §2.3.1: 255 = unknown), which some writers set from the host.
            let encoder = flate2::GzBuilder::new()
                .operating_system(255)
                .write(writer, flate2::Compression::new(level));
            Inner::Gzip(encoder)
        }
        CompressOptions::ParallelGzip { level, threads } => {
            let threads = match threads {
                0 => std::thread::available_parallelism()
                    .map_or(1, |n| n.get())
                    .min(MAX_AUTO_GZIP_THREADS),
                n => n as usize,
            };
            Inner::ParallelGzip(ParallelGzEncoder::new(writer, level, threads)?)
        }
        CompressOptions::Zstd { level, workers } => {
            let mut encoder = zstd::stream::write::Encoder::new(writer, level)?;
            encoder.include_checksum(true)?;
            if workers > 0 {
                encoder.multithread(workers)?;
            }
            Inner::Zstd(encoder)
        }
    };
    Ok(CompressWriter { inner })
}

impl<W: Write> CompressWriter<W> {
    /// Flush the compressor, write its trailer, and return the underlying writer.
    pub fn finish(self) -> io::Result<W> {
        match self.inner {
            Inner::Plain(mut w) => {
                w.flush()?;
                Ok(w)
            }
            Inner::Gzip(e) => e.finish(),
            Inner::ParallelGzip(e) => e.finish(),
            Inner::Zstd(e) => e.finish(),
        }
    }
}

impl<W: Write> Write for CompressWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.inner {
            Inner::Plain(w) => w.write(buf),
            Inner::Gzip(e) => e.write(buf),
            Inner::ParallelGzip(e) => e.write(buf),
            Inner::Zstd(e) => e.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match &mut self.inner {
            Inner::Plain(w) => w.write_all(buf),
            Inner::Gzip(e) => e.write_all(buf),
            Inner::ParallelGzip(e) => e.write_all(buf),
            Inner::Zstd(e) => e.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.inner {
            Inner::Plain(w) => w.flush(),
            Inner::Gzip(e) => e.flush(),
            Inner::ParallelGzip(e) => e.flush(),
            Inner::Zstd(e) => e.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_magic_and_falls_back_to_plain() {
        assert_eq!(Compression::detect(&[0x1f, 0x8b, 8, 0]), Compression::Gzip);
        assert_eq!(
            Compression::detect(&[0x28, 0xb5, 0x2f, 0xfd, 0]),
            Compression::Zstd
        );
        assert_eq!(
            Compression::detect(&[0xfd, b'7', b'z', b'X', b'Z', 0]),
            Compression::Xz
        );
        assert_eq!(Compression::detect(b"BZh91AY"), Compression::Bzip2);
        assert_eq!(Compression::detect(b"etc/"), Compression::None);
        assert_eq!(Compression::detect(&[0x1f]), Compression::None);
        assert_eq!(Compression::detect(&[]), Compression::None);
    }

    /// A reader that hands out one byte per call, to prove the peek replays what it took.
    struct Trickle<R>(R);
    impl<R: Read> Read for Trickle<R> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(1);
            self.0.read(&mut buf[..n])
        }
    }

    #[test]
    fn peek_replays_bytes_with_one_byte_reads() {
        let mut gz = compress(Vec::new(), CompressOptions::Gzip { level: 1 }).unwrap();
        gz.write_all(b"hello layer").unwrap();
        let blob = gz.finish().unwrap();
        let (c, mut r) = decompress(Trickle(&blob[..])).unwrap();
        assert_eq!(c, Compression::Gzip);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"hello layer");

        let (c, mut r) = decompress(Trickle(&b"abc"[..])).unwrap();
        assert_eq!(c, Compression::None);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"abc");
    }

    #[test]
    fn gzip_header_has_no_time_or_name() {
        let blob = compress(Vec::new(), CompressOptions::Gzip { level: 6 })
            .unwrap()
            .finish()
            .unwrap();
        // ID1 ID2 CM FLG MTIME(4) XFL OS (RFC 1952 §2.3)
        assert_eq!(&blob[..4], &[0x1f, 0x8b, 8, 0]);
        assert_eq!(&blob[4..8], &[0, 0, 0, 0]);
        assert_eq!(blob[9], 255);
    }

    #[test]
    fn rejects_gzip_level_above_nine() {
        assert!(compress(Vec::new(), CompressOptions::Gzip { level: 10 }).is_err());
    }
}
