//! Every normative statement id written anywhere in the repository — code, scenarios,
//! docs — must be one of the spec manifest's (aliases resolved). A typo or an invented id
//! would send a reader of a report to a rule that does not exist.

use std::fs;
use std::path::{Path, PathBuf};

use mqttspec_codec::spec;

/// Folders never scanned: build output, VCS data, local fuzzing output, and the copied
/// spec lists (their README discusses ids the specs do not define). The committed seeds
/// are scanned: `fuzz/minimize.sh` leaves out inputs that would read as unknown ids.
const SKIP_DIRS: &[&str] = &["target", ".git", "node_modules", "artifacts", "corpus"];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("codec/ has a parent")
        .to_path_buf()
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            if !SKIP_DIRS.contains(&name.as_ref()) && path != workspace_root().join("codec/spec") {
                files(&path, out);
            }
        } else {
            out.push(path);
        }
    }
}

/// Statement ids in `text`: `MQTT-` then dotted numbers, a dash, a number.
fn statement_ids(text: &str) -> Vec<&str> {
    let mut ids = Vec::new();
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(found) = text.get(from..).and_then(|t| t.find("MQTT-")) {
        let start = from + found;
        let mut end = start + 5;
        // Section part: digits and dots.
        while end < bytes.len() && (bytes[end].is_ascii_digit() || bytes[end] == b'.') {
            end += 1;
        }
        // The last dash and its number.
        if end < bytes.len() && bytes[end] == b'-' && end > start + 5 {
            let mut num_end = end + 1;
            while num_end < bytes.len() && bytes[num_end].is_ascii_digit() {
                num_end += 1;
            }
            if num_end > end + 1 {
                ids.push(
                    text.get(start..num_end)
                        .unwrap_or_default()
                        .trim_end_matches('.'),
                );
            }
            from = num_end;
        } else {
            from = end;
        }
    }
    ids
}

#[test]
fn scanner_finds_ids_in_prose_and_code() {
    let fake = format!("MQTT-{}", "9.9.9-9");
    let text =
        format!("see [MQTT-3.3.1-4], \"MQTT-4.2.0-1\" and {fake}. Not MQTT-Version or MQTT-3.");
    assert_eq!(
        statement_ids(&text),
        ["MQTT-3.3.1-4", "MQTT-4.2.0-1", fake.as_str()]
    );
    assert!(!spec::is_known(&fake), "an invented id is caught");
}

#[test]
fn every_statement_id_in_the_repository_is_in_the_manifest() {
    let mut paths = Vec::new();
    files(&workspace_root(), &mut paths);
    let mut scanned = 0;
    let mut cited = 0;
    let mut unknown = Vec::new();
    for path in &paths {
        let Ok(text) = fs::read_to_string(path) else {
            continue;
        };
        scanned += 1;
        for id in statement_ids(&text) {
            cited += 1;
            if !spec::is_known(id) {
                unknown.push(format!(
                    "{}: {id}",
                    path.strip_prefix(workspace_root())
                        .unwrap_or(path)
                        .display()
                ));
            }
        }
    }
    assert!(
        scanned > 20,
        "scanned only {scanned} files: is the walk broken?"
    );
    assert!(
        cited > 100,
        "found only {cited} citations: is the scanner broken?"
    );
    assert!(
        unknown.is_empty(),
        "statement ids not in the spec manifest:\n{}",
        unknown.join("\n")
    );
}

#[test]
fn every_statement_the_decoder_can_cite_is_in_the_manifest() {
    // The statement table in the error module, checked value by value.
    let source = fs::read_to_string(workspace_root().join("codec/src/error.rs")).expect("error.rs");
    let ids = statement_ids(&source);
    assert!(ids.len() > 50, "the error table cites {} ids", ids.len());
    for id in ids {
        assert!(spec::is_known(id), "{id}");
    }
}
