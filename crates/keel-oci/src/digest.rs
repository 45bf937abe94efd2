//! Content digests (`sha256:<64 hex>`), validated on construction so that a digest taken from an
//! image, a registry or a file name can never carry `/` or `..` into a path.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};

/// A validated `algorithm:hex` digest. Only sha256 is produced; sha512 is accepted when read
/// (the OCI image spec registers both).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest {
    /// `algorithm:hex`, lower case.
    text: String,
    /// Byte offset of the `:`.
    colon: usize,
}

/// A digest string that is not `sha256:<64 lower-case hex>` or `sha512:<128 lower-case hex>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid digest {input:?}: {reason}")]
pub struct DigestError {
    pub input: String,
    pub reason: &'static str,
}

impl Digest {
    /// The sha256 digest of `bytes`.
    pub fn sha256_of(bytes: &[u8]) -> Digest {
        Digest::from_sha256(Sha256::digest(bytes).into())
    }

    /// A sha256 digest from its 32 raw bytes.
    pub fn from_sha256(raw: [u8; 32]) -> Digest {
        Digest {
            text: format!("sha256:{}", hex(&raw)),
            colon: 6,
        }
    }

    /// `sha256`
    pub fn algorithm(&self) -> &str {
        &self.text[..self.colon]
    }

    /// The hex part: safe to use as a file name.
    pub fn hex(&self) -> &str {
        &self.text[self.colon + 1..]
    }

    /// `sha256:…`
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The first 12 hex characters, as docker shows IDs.
    pub fn short(&self) -> &str {
        &self.hex()[..12]
    }
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    s
}

impl FromStr for Digest {
    type Err = DigestError;

    fn from_str(s: &str) -> Result<Digest, DigestError> {
        let err = |reason| DigestError {
            input: s.to_owned(),
            reason,
        };
        let (algorithm, hex) = s.split_once(':').ok_or_else(|| err("missing ':'"))?;
        let want = match algorithm {
            "sha256" => 64,
            "sha512" => 128,
            _ => return Err(err("unsupported algorithm (want sha256 or sha512)")),
        };
        if hex.len() != want {
            return Err(err("wrong length"));
        }
        if !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(err("not lower-case hex"));
        }
        Ok(Digest {
            text: s.to_owned(),
            colon: algorithm.len(),
        })
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.text)
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Digest, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Incremental sha256, for streaming writes that verify as they go.
#[derive(Clone, Default)]
pub struct Sha256Writer {
    hasher: Sha256,
    len: u64,
}

impl Sha256Writer {
    pub fn new() -> Sha256Writer {
        Sha256Writer::default()
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
        self.len += bytes.len() as u64;
    }

    /// Bytes seen so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn finish(self) -> Digest {
        Digest::from_sha256(self.hasher.finalize().into())
    }
}

impl std::io::Write for Sha256Writer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digest_of_empty_input() {
        assert_eq!(
            Digest::sha256_of(b"").as_str(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn rejects_path_tricks_and_bad_hex() {
        for bad in [
            "sha256:../../etc/passwd",
            "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
            "md5:d41d8cd98f00b204e9800998ecf8427e",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "sha256:",
        ] {
            assert!(bad.parse::<Digest>().is_err(), "{bad}");
        }
    }

    #[test]
    fn round_trips_and_streams() {
        let d = Digest::sha256_of(b"abc");
        let parsed: Digest = d.as_str().parse().expect("valid");
        assert_eq!(parsed, d);
        assert_eq!(d.algorithm(), "sha256");
        assert_eq!(d.short().len(), 12);
        let mut w = Sha256Writer::new();
        w.update(b"a");
        w.update(b"bc");
        assert_eq!(w.len(), 3);
        assert_eq!(w.finish(), d);
    }
}
