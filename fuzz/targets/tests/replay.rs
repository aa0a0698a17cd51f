//! Replays the committed fuzz corpus (`fuzz/seeds/<target>/`, minimized) and every crash
//! reproducer (`fuzz/regressions/<target>/`) through the targets, on stable Rust: a decoder
//! or broker regression that fuzzing once found fails `cargo test`.

use std::path::{Path, PathBuf};

use mqttspec_fuzz_targets::TARGETS;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("readable directory").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs every file of `folder/<target>/` through its target; a panic names the file.
fn replay(folder: &str) -> usize {
    let mut total = 0;
    for target in TARGETS {
        for path in inputs(&fuzz_dir().join(folder).join(target.name)) {
            let data = std::fs::read(&path).expect("readable input");
            let result = std::panic::catch_unwind(|| (target.run)(&data));
            assert!(
                result.is_ok(),
                "{} fails on {}",
                target.name,
                path.display()
            );
            total += 1;
        }
    }
    total
}

#[test]
fn every_target_has_a_committed_corpus() {
    for target in TARGETS {
        let dir = fuzz_dir().join("seeds").join(target.name);
        assert!(!inputs(&dir).is_empty(), "no corpus in {}", dir.display());
    }
}

#[test]
fn the_committed_corpus_replays_cleanly() {
    assert!(replay("seeds") > 0);
}

#[test]
fn every_crash_reproducer_replays_cleanly() {
    replay("regressions");
}

/// The working corpus of local fuzzing runs (`fuzz/corpus/`, not committed), for checking a
/// fix against everything libFuzzer kept: `cargo test -p mqttspec-fuzz-targets -- --ignored`.
#[test]
#[ignore = "replays the local, uncommitted fuzz/corpus"]
fn the_working_corpus_replays_cleanly() {
    replay("corpus");
}
