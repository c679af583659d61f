//! The binary weights file: IDF weights and every head's weights as little-endian `f32`.
//!
//! Layout: magic `STNCWTS1`, then `u32` format version, `u32` feature count, `u32` head count,
//! the IDF weights, and per head a `u32` label count, the intercepts and the
//! `features × labels` weights (feature-major). Nothing follows the last head.

use super::FORMAT_VERSION;
use crate::predict::Model;

const MAGIC: &[u8; 8] = b"STNCWTS1";

/// The weights of one head as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredHead {
    /// Intercept per label.
    pub intercept: Vec<f32>,
    /// `features × labels`, feature-major.
    pub weights: Vec<f32>,
}

/// The decoded content of a weights file.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredWeights {
    /// IDF weight per feature.
    pub idf: Vec<f32>,
    /// Heads in manifest order.
    pub heads: Vec<StoredHead>,
}

/// Encodes the model's IDF and head weights.
pub fn encode(model: &Model) -> Vec<u8> {
    let idf = model.featurizer.idf();
    let mut out = Vec::with_capacity(
        20 + 4 * idf.len() * (1 + model.heads.iter().map(|h| h.labels().len()).sum::<usize>()),
    );
    out.extend_from_slice(MAGIC);
    for n in [FORMAT_VERSION, idf.len() as u32, model.heads.len() as u32] {
        out.extend_from_slice(&n.to_le_bytes());
    }
    let push_all = |out: &mut Vec<u8>, values: &[f32]| {
        values
            .iter()
            .for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
    };
    push_all(&mut out, idf);
    for head in &model.heads {
        out.extend_from_slice(&(head.labels().len() as u32).to_le_bytes());
        push_all(&mut out, head.intercept());
        push_all(&mut out, head.weights());
    }
    out
}

/// Decodes a weights file, checking magic, version, lengths and that every value is finite.
pub fn decode(bytes: &[u8]) -> Result<StoredWeights, String> {
    let mut reader = Reader { bytes, at: 0 };
    if reader.take(8)? != MAGIC {
        return Err("not a weights file (bad magic bytes)".into());
    }
    let version = reader.u32()?;
    if version != FORMAT_VERSION {
        return Err(format!(
            "weights format version {version}, this build reads {FORMAT_VERSION}"
        ));
    }
    let features = reader.u32()? as usize;
    let n_heads = reader.u32()? as usize;
    let idf = reader.f32s(features)?;
    let mut heads = Vec::new();
    for head in 0..n_heads {
        let labels = reader.u32()? as usize;
        if labels < 2 {
            return Err(format!("head {head} has {labels} labels"));
        }
        let intercept = reader.f32s(labels)?;
        let weights = reader.f32s(
            features
                .checked_mul(labels)
                .ok_or("feature × label count overflows")?,
        )?;
        heads.push(StoredHead { intercept, weights });
    }
    if reader.at != bytes.len() {
        return Err(format!(
            "{} unexpected bytes after the last head",
            bytes.len() - reader.at
        ));
    }
    Ok(StoredWeights { idf, heads })
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len());
        let end = end.ok_or_else(|| {
            format!(
                "truncated: needs {n} more bytes at offset {}, file has {}",
                self.at,
                self.bytes.len()
            )
        })?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn u32(&mut self) -> Result<u32, String> {
        let bytes = self.take(4)?;
        Ok(u32::from_le_bytes(bytes.try_into().expect("4 bytes")))
    }

    fn f32s(&mut self, n: usize) -> Result<Vec<f32>, String> {
        let bytes = self.take(n.checked_mul(4).ok_or("length overflows")?)?;
        let values: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect();
        if let Some(at) = values.iter().position(|v| !v.is_finite()) {
            return Err(format!("non-finite value at position {at}"));
        }
        Ok(values)
    }
}
