//! A fuzz input: what each client of one execution opens, sends, closes and waits for —
//! the sending side of a scenario ([`crate::scenario::script`]), then mutated.
//!
//! Topics and client identifiers are written with a placeholder ([`MARKER`]) that each
//! execution replaces, in the bytes, with a token of the same length: the lengths inside the
//! packets stay right however the bytes were mutated, and executions running at the same
//! time on one broker never share a session or a topic.

use std::time::Duration;

use bytes::Bytes;

use crate::scenario::script::{Action, Names, ScriptStep, script};
use crate::scenario::{Catalog, Version};

/// Stands for an execution's token in topics and client identifiers.
pub const MARKER: &[u8; 8] = b"zzzzzzzz";

/// Most clients one program drives (connections open at once).
pub const MAX_CLIENTS: usize = 6;
/// Most steps in one program.
pub const MAX_STEPS: usize = 48;
/// Most bytes one send may carry, and one program in all.
pub const MAX_SEND: usize = 64 * 1024;
pub const MAX_PROGRAM_BYTES: usize = 256 * 1024;
/// Longest wait a program may ask for, and most repeats of one send, while fuzzing.
pub const MAX_WAIT: Duration = Duration::from_millis(200);
pub const MAX_REPEAT: u32 = 200;

/// One fuzz input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    /// The version its scenario ran under (the CONNECT bytes may name another).
    pub version: Version,
    /// The scenario it descends from.
    pub origin: String,
    pub steps: Vec<ScriptStep>,
}

/// The names scripts are written with: [`MARKER`] where a case's token would be.
pub fn marker_names() -> Names {
    let marker = std::str::from_utf8(MARKER).unwrap_or("zzzzzzzz");
    Names {
        prefix: format!("mqttspec/{marker}"),
        id_stem: marker.to_owned(),
    }
}

impl Program {
    /// Every client name the program uses, in order of first use.
    pub fn clients(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for s in &self.steps {
            if !s.client.is_empty() && !names.contains(&s.client) {
                names.push(s.client.clone());
            }
        }
        names
    }

    /// Bytes sent in all.
    pub fn size(&self) -> usize {
        self.steps
            .iter()
            .map(|s| match &s.action {
                Action::Send { bytes, repeat } => bytes.len() * *repeat as usize,
                Action::Close(Some(b)) => b.len(),
                _ => 0,
            })
            .sum()
    }

    /// Within the bounds a fuzzing execution keeps to: steps, clients, bytes, waits.
    pub fn clamp(&mut self) {
        self.steps.truncate(MAX_STEPS);
        let clients = self.clients();
        if clients.len() > MAX_CLIENTS {
            let keep = &clients[..MAX_CLIENTS];
            self.steps
                .retain(|s| s.client.is_empty() || keep.contains(&s.client));
        }
        for s in &mut self.steps {
            match &mut s.action {
                Action::Send { bytes, repeat } => {
                    if bytes.len() > MAX_SEND {
                        *bytes = bytes.slice(..MAX_SEND);
                    }
                    *repeat = (*repeat).clamp(1, MAX_REPEAT);
                }
                Action::Wait(d) => *d = (*d).min(MAX_WAIT),
                _ => {}
            }
        }
        while self.size() > MAX_PROGRAM_BYTES {
            let Some(i) = self
                .steps
                .iter()
                .rposition(|s| matches!(s.action, Action::Send { .. }))
            else {
                break;
            };
            self.steps.remove(i);
        }
    }

    /// The program with [`MARKER`] replaced by `token` (same length) in every byte sent.
    pub fn instantiate(&self, token: &[u8; 8]) -> Program {
        let mut p = self.clone();
        for s in &mut p.steps {
            match &mut s.action {
                Action::Send { bytes, .. } | Action::Close(Some(bytes)) => {
                    *bytes = replace_marker(bytes, token);
                }
                _ => {}
            }
        }
        p
    }
}

/// `bytes` with every [`MARKER`] replaced by `token`.
pub fn replace_marker(bytes: &Bytes, token: &[u8; 8]) -> Bytes {
    if !bytes.windows(MARKER.len()).any(|w| w == MARKER) {
        return bytes.clone();
    }
    let mut out = bytes.to_vec();
    let mut i = 0;
    while i + MARKER.len() <= out.len() {
        if &out[i..i + MARKER.len()] == MARKER {
            out[i..i + MARKER.len()].copy_from_slice(token);
            i += MARKER.len();
        } else {
            i += 1;
        }
    }
    Bytes::from(out)
}

/// The token of execution `n` of run `run`: eight lowercase letters and digits, the
/// characters every broker accepts in a client identifier (MQTT-3.1.3-5).
pub fn token(run: u16, n: u64) -> [u8; 8] {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = [b'0'; 8];
    let mut v = (u64::from(run) % (36 * 36)) * 36u64.pow(6) + n % 36u64.pow(6);
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(v % 36) as usize];
        v /= 36;
    }
    out
}

/// The seed programs: every scenario of the catalog that can be scripted offline, under
/// each of its versions that `versions` selects. Steps the fuzzer cannot drive (none
/// today) are dropped, and each program is clamped to the fuzzing bounds.
pub fn seeds(catalog: &Catalog, versions: &[Version]) -> Vec<Program> {
    let names = marker_names();
    let mut out = Vec::new();
    for scenario in &catalog.scenarios {
        for &v in &scenario.versions {
            if !versions.contains(&v) {
                continue;
            }
            let Ok(steps) = script(scenario, v, &names) else {
                continue;
            };
            if steps.is_empty() {
                continue;
            }
            let mut p = Program {
                version: v,
                origin: scenario.id.clone(),
                steps,
            };
            p.clamp();
            out.push(p);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_alphanumeric_and_as_long_as_the_marker() {
        let a = token(1, 0);
        let b = token(1, 1);
        let c = token(2, 0);
        assert_ne!(a, b);
        assert_ne!(a, c);
        for t in [a, b, c, token(u16::MAX, u64::MAX)] {
            assert!(t.iter().all(u8::is_ascii_alphanumeric));
            assert_eq!(t.len(), MARKER.len());
        }
    }

    #[test]
    fn the_marker_is_replaced_everywhere_without_changing_lengths() {
        let bytes = Bytes::from_static(b"\x00\x08zzzzzzzz/a zzzzzzzzb zzzz");
        let out = replace_marker(&bytes, b"abcdefgh");
        assert_eq!(&out[..], b"\x00\x08abcdefgh/a abcdefghb zzzz");
    }

    #[test]
    fn every_builtin_scenario_seeds_a_program_per_version() {
        let catalog = crate::builtin::catalog().expect("built-in scenarios");
        let seeds = seeds(&catalog, &[Version::V3_1_1, Version::V5]);
        let cases: usize = catalog.scenarios.iter().map(|s| s.versions.len()).sum();
        // A scenario whose send needs a captured value may not script offline; nearly
        // all do.
        assert!(seeds.len() * 10 >= cases * 9, "{} of {cases}", seeds.len());
        for p in &seeds {
            assert!(p.steps.len() <= MAX_STEPS && p.size() <= MAX_PROGRAM_BYTES);
            assert!(p.clients().len() <= MAX_CLIENTS);
        }
        // The marker stands where client identifiers go.
        assert!(seeds.iter().any(|p| p.steps.iter().any(|s| matches!(
            &s.action,
            Action::Send { bytes, .. } if bytes.windows(8).any(|w| w == MARKER)
        ))));
    }
}
