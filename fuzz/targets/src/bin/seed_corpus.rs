//! Writes seed corpora for the fuzz targets from the built-in scenarios:
//! `cargo run -p mqttspec-fuzz-targets --bin seed-corpus [-- OUT_DIR]` (default
//! `fuzz/corpus`), one folder per target, one file per distinct input.
//!
//! - `decode`: every packet a scenario sends, under each version it lists;
//! - `stream`: each client's packets of a case, back to back;
//! - `broker_session`: each case's whole exchange, every client in a slot;
//! - `topic`: every (filter, topic name) pair a case subscribes to and publishes on;
//! - `scenario`: the scenario and family files themselves.
//!
//! `roundtrip` draws its packets with `arbitrary` and needs no seeds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use mqttspec::builtin::{BUILTIN, catalog};
use mqttspec::scenario::script::{Action, Names, script};
use mqttspec_codec::{Packet, ProtocolVersion};
use mqttspec_fuzz_targets::broker_session::{self, Record};
use mqttspec_fuzz_targets::version_byte;

fn main() {
    let out = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("fuzz/corpus"));
    let catalog = catalog().unwrap_or_else(|errors| {
        for e in errors {
            eprintln!("{e}");
        }
        std::process::exit(2)
    });
    let names = Names {
        prefix: "fz".into(),
        id_stem: "seed".into(),
    };
    let mut corpus: BTreeMap<&str, BTreeSet<Vec<u8>>> = BTreeMap::new();
    for (_, text) in BUILTIN {
        corpus
            .entry("scenario")
            .or_default()
            .insert(text.as_bytes().to_vec());
    }
    for scenario in &catalog.scenarios {
        for &version in &scenario.versions {
            let Ok(steps) = script(scenario, version, &names) else {
                continue;
            };
            let v = version.protocol();
            let mut per_client: BTreeMap<&str, Vec<u8>> = BTreeMap::new();
            let mut session = vec![0u8];
            let mut slots: Vec<&str> = Vec::new();
            let mut filters = BTreeSet::new();
            let mut topics = BTreeSet::new();
            for step in &steps {
                let slot = match slots.iter().position(|c| *c == step.client) {
                    Some(i) => Some(i),
                    None if !step.client.is_empty() && slots.len() < broker_session::SLOTS => {
                        slots.push(&step.client);
                        Some(slots.len() - 1)
                    }
                    None => None,
                };
                match &step.action {
                    Action::Open => {
                        if let Some(slot) = slot {
                            session.extend(Record::Close { slot }.encode());
                        }
                    }
                    Action::Send { bytes, repeat } => {
                        corpus.entry("decode").or_default().insert(bytes.to_vec());
                        per_client
                            .entry(&step.client)
                            .or_default()
                            .extend_from_slice(bytes);
                        if let Some(slot) = slot {
                            for _ in 0..(*repeat).min(16) {
                                session.extend(Record::Bytes { slot, bytes }.encode());
                            }
                        }
                        collect_topics(bytes, v, &mut filters, &mut topics);
                    }
                    Action::Close(disconnect) => {
                        if let Some(slot) = slot {
                            if let Some(bytes) = disconnect {
                                session.extend(Record::Bytes { slot, bytes }.encode());
                            }
                            session.extend(Record::Close { slot }.encode());
                        }
                    }
                    Action::Wait(d) => {
                        let secs = d.as_millis().div_ceil(1000).min(u128::from(u16::MAX)) as u16;
                        session.extend(Record::Advance { secs }.encode());
                    }
                }
            }
            for stream in per_client.into_values() {
                // Maximum packet size 2 + 0x1000 * 16 = 64 KiB + 2; chunking seed 7.
                let mut input = vec![version_byte(v), 0x10, 0x00, 7];
                input.extend(stream);
                corpus.entry("stream").or_default().insert(input);
            }
            corpus.entry("broker_session").or_default().insert(session);
            for filter in &filters {
                for topic in topics.iter().chain([filter]) {
                    let mut input = vec![version_byte(v)];
                    input.extend_from_slice(filter);
                    input.push(0xFF);
                    input.extend_from_slice(topic);
                    corpus.entry("topic").or_default().insert(input);
                }
            }
        }
    }
    for (target, inputs) in &corpus {
        let dir = out.join(target);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for input in inputs {
            write(&dir, input);
        }
        println!("{target}: {} seeds in {}", inputs.len(), dir.display());
    }
}

/// Topic filters subscribed to and topic names published to in `bytes`.
fn collect_topics(
    bytes: &Bytes,
    v: ProtocolVersion,
    filters: &mut BTreeSet<Vec<u8>>,
    topics: &mut BTreeSet<Vec<u8>>,
) {
    match Packet::decode(bytes, v) {
        Ok(Packet::Subscribe(s)) => filters.extend(
            s.subscriptions
                .iter()
                .map(|s| s.filter.as_str().as_bytes().to_vec()),
        ),
        Ok(Packet::Unsubscribe(u)) => {
            filters.extend(u.filters.iter().map(|f| f.as_str().as_bytes().to_vec()))
        }
        Ok(Packet::Publish(p)) => {
            topics.insert(p.topic.as_str().as_bytes().to_vec());
        }
        _ => {}
    }
}

/// Names each file by a hash of its contents, as libFuzzer does (FNV-1a here: no
/// dependency, and stable across runs).
fn write(dir: &Path, input: &[u8]) {
    let hash = input.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let path = dir.join(format!("{hash:016x}"));
    std::fs::write(&path, input).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}
