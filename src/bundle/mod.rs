//! Model bundles: a directory holding a human-readable `manifest.json`, the vocabulary as
//! `vocabulary.txt` and the weights as `weights.bin`, each file checksummed in the manifest.
//!
//! A bundle is written into a temporary sibling directory and renamed into place, so a failed or
//! interrupted run never leaves a half-written bundle or replaces a good one. Loading checks the
//! format version, checksums, shapes and label counts, and reports problems as [`BundleError`].

pub mod manifest;
pub mod weights;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

pub use manifest::{FORMAT_VERSION, FileDigest, Manifest};

use crate::features::{Featurizer, Vocabulary};
use crate::heads::Head;
use crate::predict::Model;

/// File name of the manifest inside a bundle.
pub const MANIFEST_FILE: &str = "manifest.json";
/// File name of the weights inside a bundle.
pub const WEIGHTS_FILE: &str = "weights.bin";
/// File name of the vocabulary inside a bundle.
pub const VOCABULARY_FILE: &str = "vocabulary.txt";

/// Why a bundle could not be written or loaded.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// A file of the bundle does not exist.
    #[error("{0}: missing (is this a model directory written by `train`?)")]
    Missing(PathBuf),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The manifest is not valid.
    #[error("{path}: invalid manifest: {message}")]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The bundle was written in a format this build does not read.
    #[error(
        "{path}: format version {found} is not supported (this build reads version {supported}); retrain the model with this version"
    )]
    FormatVersion {
        /// The manifest file.
        path: PathBuf,
        /// Version in the manifest.
        found: u32,
        /// Version this build reads.
        supported: u32,
    },
    /// A file's checksum does not match the manifest.
    #[error(
        "{path}: checksum mismatch (manifest says sha256 {expected}, file has {found}): the file is corrupt or was changed"
    )]
    Checksum {
        /// The file.
        path: PathBuf,
        /// Checksum in the manifest.
        expected: String,
        /// Checksum of the file.
        found: String,
    },
    /// A file's content does not fit the manifest or itself.
    #[error("{path}: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What does not fit.
        reason: String,
    },
    /// The bundle was built with text settings this build does not reproduce.
    #[error("{path}: {reason}; retrain the model with this build")]
    Incompatible {
        /// The manifest file.
        path: PathBuf,
        /// What differs.
        reason: String,
    },
}

/// A loaded, validated model bundle.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// Where it was loaded from.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
    /// The fitted model.
    pub model: Model,
}

/// Hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> BundleError + '_ {
    move |source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            BundleError::Missing(path.to_path_buf())
        } else {
            BundleError::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    }
}

impl Bundle {
    /// Loads and validates the bundle in `dir`.
    pub fn load(dir: &Path) -> Result<Self, BundleError> {
        let manifest_path = dir.join(MANIFEST_FILE);
        let manifest_text = fs::read(&manifest_path).map_err(io_error(&manifest_path))?;
        let manifest = Manifest::parse(&manifest_path, &manifest_text)?;
        manifest.check_compatible(&manifest_path)?;

        let read_checked = |digest: &FileDigest| -> Result<Vec<u8>, BundleError> {
            let path = dir.join(&digest.path);
            let bytes = fs::read(&path).map_err(io_error(&path))?;
            let found = sha256_hex(&bytes);
            if found != digest.sha256 {
                return Err(BundleError::Checksum {
                    path,
                    expected: digest.sha256.clone(),
                    found,
                });
            }
            Ok(bytes)
        };
        let vocabulary_bytes = read_checked(&manifest.files.vocabulary)?;
        let weights_bytes = read_checked(&manifest.files.weights)?;

        let vocabulary_path = dir.join(&manifest.files.vocabulary.path);
        let vocabulary = parse_vocabulary(&vocabulary_path, &vocabulary_bytes)?;
        let weights_path = dir.join(&manifest.files.weights.path);
        let decoded = weights::decode(&weights_bytes).map_err(|reason| BundleError::Corrupt {
            path: weights_path.clone(),
            reason,
        })?;
        let corrupt = |reason: String| BundleError::Corrupt {
            path: weights_path.clone(),
            reason,
        };
        if decoded.idf.len() != vocabulary.len() {
            return Err(corrupt(format!(
                "{} IDF weights for a vocabulary of {} terms",
                decoded.idf.len(),
                vocabulary.len()
            )));
        }
        if decoded.heads.len() != manifest.heads.len() {
            return Err(corrupt(format!(
                "{} heads in the weights, {} in the manifest",
                decoded.heads.len(),
                manifest.heads.len()
            )));
        }
        let mut heads = Vec::with_capacity(decoded.heads.len());
        for (spec, stored) in manifest.heads.iter().zip(decoded.heads) {
            if stored.intercept.len() != spec.labels.len() {
                return Err(corrupt(format!(
                    "head '{}' has {} labels in the manifest but weights for {}",
                    spec.name,
                    spec.labels.len(),
                    stored.intercept.len()
                )));
            }
            heads.push(Head::new(
                spec.name.clone(),
                spec.description.clone(),
                spec.labels.clone(),
                stored.weights,
                stored.intercept,
            ));
        }
        let featurizer = Featurizer::from_parts(manifest.features.clone(), vocabulary, decoded.idf);
        Ok(Self {
            dir: dir.to_path_buf(),
            manifest,
            model: Model { featurizer, heads },
        })
    }

    /// Writes `model` with `manifest` into `dir`, atomically replacing any bundle there.
    /// Fills in the manifest's file digests and version; returns the finished manifest.
    pub fn write(
        dir: &Path,
        mut manifest: Manifest,
        model: &Model,
    ) -> Result<Manifest, BundleError> {
        let weights_bytes = weights::encode(model);
        let vocabulary_bytes = render_vocabulary(model.featurizer.vocabulary());
        manifest.files.weights = FileDigest::of(WEIGHTS_FILE, &weights_bytes);
        manifest.files.vocabulary = FileDigest::of(VOCABULARY_FILE, &vocabulary_bytes);
        manifest.version = format!("{}-{}", manifest.name, &manifest.files.weights.sha256[..12]);
        let manifest_bytes = manifest.to_pretty_json();

        let parent = dir
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        fs::create_dir_all(parent).map_err(io_error(parent))?;
        let leaf = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "model".into());
        remove_abandoned_staging(parent, &leaf);
        let staging = parent.join(format!(".{leaf}.tmp-{}", std::process::id()));
        if staging.exists() {
            fs::remove_dir_all(&staging).map_err(io_error(&staging))?;
        }
        fs::create_dir(&staging).map_err(io_error(&staging))?;
        let result = (|| {
            write_synced(&staging.join(WEIGHTS_FILE), &weights_bytes)?;
            write_synced(&staging.join(VOCABULARY_FILE), &vocabulary_bytes)?;
            write_synced(&staging.join(MANIFEST_FILE), &manifest_bytes)?;
            Self::load(&staging)?;
            replace_dir(&staging, dir)
        })();
        if result.is_err() {
            let _ = fs::remove_dir_all(&staging);
        }
        result.map(|()| manifest)
    }
}

/// Removes staging directories (`.LEAF.tmp-PID`) left by training runs that were killed, that is,
/// whose process no longer exists.
fn remove_abandoned_staging(parent: &Path, leaf: &str) {
    let prefix = format!(".{leaf}.tmp-");
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix(&prefix) else {
            continue;
        };
        let pid = pid.trim_end_matches(".previous");
        let alive = pid
            .parse::<u32>()
            .is_ok_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
        if !alive {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), BundleError> {
    let mut file = fs::File::create(path).map_err(io_error(path))?;
    file.write_all(bytes).map_err(io_error(path))?;
    file.sync_all().map_err(io_error(path))
}

/// Moves the finished `staging` directory to `target`. An existing bundle is first renamed
/// aside and removed only once the new one is in place; if the final rename fails it is put back.
fn replace_dir(staging: &Path, target: &Path) -> Result<(), BundleError> {
    if !target.exists() {
        return fs::rename(staging, target).map_err(io_error(target));
    }
    let mut aside = staging.as_os_str().to_owned();
    aside.push(".previous");
    let aside = PathBuf::from(aside);
    fs::rename(target, &aside).map_err(io_error(target))?;
    if let Err(error) = fs::rename(staging, target) {
        let _ = fs::rename(&aside, target);
        return Err(io_error(target)(error));
    }
    fs::remove_dir_all(&aside).map_err(io_error(&aside))
}

/// One `term<TAB>document frequency` line per feature column.
fn render_vocabulary(vocabulary: &Vocabulary) -> Vec<u8> {
    let mut out = String::new();
    for (term, df) in vocabulary
        .terms()
        .iter()
        .zip(vocabulary.document_frequencies())
    {
        out.push_str(term);
        out.push('\t');
        out.push_str(&df.to_string());
        out.push('\n');
    }
    out.into_bytes()
}

fn parse_vocabulary(path: &Path, bytes: &[u8]) -> Result<Vocabulary, BundleError> {
    let corrupt = |line: usize, reason: &str| BundleError::Corrupt {
        path: path.to_path_buf(),
        reason: format!("line {line}: {reason}"),
    };
    let text = std::str::from_utf8(bytes).map_err(|_| corrupt(0, "invalid UTF-8"))?;
    let mut terms = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let (term, df) = line
            .split_once('\t')
            .ok_or_else(|| corrupt(i + 1, "expected term<TAB>document frequency"))?;
        let df = df
            .parse::<u32>()
            .map_err(|_| corrupt(i + 1, "document frequency is not a whole number"))?;
        terms.push((term.to_string(), df));
    }
    if terms.windows(2).any(|w| w[0].0 >= w[1].0) {
        return Err(corrupt(0, "terms are not in sorted order"));
    }
    Ok(Vocabulary::from_terms(terms))
}
