//! Helpers shared by the command-line binaries: argument parsers and progress bars.

use indicatif::{ProgressBar, ProgressStyle};

/// The heads `train` reads when `--heads` is not given.
pub const DEFAULT_HEADS: &str = "stance,topic";

/// Description stored in the manifest for a head, unless `--head-description` gives one.
pub fn default_head_description(head: &str) -> String {
    match head {
        "stance" => "Stance of the paragraph toward the PRC government and its positions: \
                     favor (defends Beijing or criticises those acting against China), \
                     against (criticises Beijing, frames China as a threat or coercer), \
                     neutral (factual or balanced)"
            .into(),
        "topic" => "Main subject of the paragraph: economy, technology, military, diplomacy, \
                    cross_strait (takes precedence when Taiwan is the main subject)"
            .into(),
        other => format!("Labels of the '{other}' field of the training data"),
    }
}

/// Lets a command-line tool end quietly when its reader goes away (`classify … | head`),
/// as Unix tools do, instead of failing on a broken pipe. Not for the server.
pub fn exit_quietly_on_broken_pipe() {
    // SAFETY: called first thing in `main`, before any thread exists; restores the default action.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Parses a byte size: `4GiB`, `512MiB`, `800MB`, `1G`, `65536`.
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("'{s}' is not a size such as 4GiB or 512MB"))?;
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        "t" | "tb" => 1_000_000_000_000,
        "tib" => 1 << 40,
        _ => {
            return Err(format!(
                "'{s}': unknown unit '{unit}' (use B, KB, KiB, MB, MiB, GB, GiB)"
            ));
        }
    };
    Ok((number * multiplier as f64) as u64)
}

/// Parses `name=text`.
pub fn parse_key_value(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .ok_or_else(|| format!("'{s}' is not NAME=TEXT"))
}

/// A progress bar on stderr with a count, rate and ETA (hidden when stderr is not a terminal).
pub fn counter(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>12} [{bar:30}] {pos}/{len} ({per_sec}, eta {eta}) {msg}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_prefix(what.to_string());
    bar
}

/// A spinner on stderr for work without a known length.
pub fn spinner(what: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{prefix:>12} {spinner} {elapsed} {msg}")
            .expect("valid template"),
    );
    bar.set_prefix(what.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_bytes("4GiB"), Ok(4 << 30));
        assert_eq!(parse_bytes("512MB"), Ok(512_000_000));
        assert_eq!(parse_bytes("100"), Ok(100));
        assert!(parse_bytes("lots").is_err());
        assert!(parse_bytes("3 parsecs").is_err());
    }

    #[test]
    fn key_values_parse() {
        assert_eq!(
            parse_key_value("stance=Stance"),
            Ok(("stance".into(), "Stance".into()))
        );
        assert!(parse_key_value("stance").is_err());
    }
}
