//! Shrinking a finding's program while it still shows the same finding: delta debugging
//! (ddmin) over its steps, then over each packet — its properties, its payload, its
//! repeats — and last over the bytes of what does not decode. Every candidate is run
//! against the broker; a budget of runs bounds the whole.

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use mqttspec_codec::Packet;

use super::program::Program;
use crate::engine::oracle::frames;
use crate::scenario::script::{Action, ScriptStep};

/// Undecodable sends up to this many bytes are shrunk byte by byte (ddmin); longer ones
/// only lose their tail.
const BYTES_DDMIN_LIMIT: usize = 512;

/// Runs spent, and how the size went.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shrunk {
    pub runs: usize,
    pub steps_before: usize,
    pub bytes_before: usize,
    pub steps_after: usize,
    pub bytes_after: usize,
}

/// A run of a candidate: does it still show the finding?
pub type Verdict<'a> = Pin<Box<dyn Future<Output = bool> + Send + 'a>>;

/// The runs of one minimization, within its budget.
struct Search<F> {
    runs: usize,
    budget: usize,
    still_fails: F,
}

impl<'a, F: FnMut(Program) -> Verdict<'a>> Search<F> {
    async fn check(&mut self, p: &Program) -> bool {
        if self.runs >= self.budget {
            return false;
        }
        self.runs += 1;
        (self.still_fails)(p.clone()).await
    }
}

/// Shrinks `program` as long as `still_fails` holds, within `budget` runs.
pub async fn minimize<'a>(
    program: Program,
    budget: usize,
    still_fails: impl FnMut(Program) -> Verdict<'a>,
) -> (Program, Shrunk) {
    let mut shrunk = Shrunk {
        steps_before: program.steps.len(),
        bytes_before: program.size(),
        ..Shrunk::default()
    };
    let mut search = Search {
        runs: 0,
        budget,
        still_fails,
    };
    let mut current = split_frames(program);
    current = ddmin(current, &mut search).await;
    current = shrink_packets(current, &mut search).await;
    // Packets shrunk may have made more steps unnecessary.
    current = ddmin(current, &mut search).await;
    shrunk.runs = search.runs;
    shrunk.steps_after = current.steps.len();
    shrunk.bytes_after = current.size();
    (current, shrunk)
}

/// Each packet of a multi-packet send becomes a send of its own (the same bytes in the same
/// order), so steps can drop single packets.
fn split_frames(program: Program) -> Program {
    let mut steps = Vec::with_capacity(program.steps.len());
    for step in program.steps {
        match &step.action {
            Action::Send { bytes, repeat: 1 } => {
                let ranges = frames(bytes);
                if ranges.len() <= 1 {
                    steps.push(step);
                    continue;
                }
                for (k, r) in ranges.iter().enumerate() {
                    // Bytes that do not frame stay with the last packet.
                    let end = if k + 1 == ranges.len() {
                        bytes.len()
                    } else {
                        r.end
                    };
                    steps.push(ScriptStep {
                        client: step.client.clone(),
                        action: Action::Send {
                            bytes: bytes.slice(r.start..end),
                            repeat: 1,
                        },
                    });
                }
            }
            _ => steps.push(step),
        }
    }
    Program { steps, ..program }
}

/// Zeller's ddmin over the steps: remove chunks while the finding holds, refining the
/// chunks down to single steps.
async fn ddmin<'a, F: FnMut(Program) -> Verdict<'a>>(
    current: Program,
    search: &mut Search<F>,
) -> Program {
    let steps = current.steps.clone();
    let build = |steps: Vec<ScriptStep>| {
        (!steps.is_empty()).then(|| Program {
            steps,
            ..current.clone()
        })
    };
    match ddmin_list(steps, build, search).await {
        Some(smaller) => smaller,
        None => current,
    }
}

/// ddmin over any list: `build` turns a sub-list into a candidate (or refuses it); the
/// last candidate that held is returned (`None`: no smaller one did).
async fn ddmin_list<'a, T: Clone, F: FnMut(Program) -> Verdict<'a>>(
    mut items: Vec<T>,
    build: impl Fn(Vec<T>) -> Option<Program>,
    search: &mut Search<F>,
) -> Option<Program> {
    let mut kept = None;
    let mut n = 2usize;
    while !items.is_empty() {
        let len = items.len();
        let chunk = len.div_ceil(n.min(len));
        let mut reduced = false;
        let mut start = 0;
        while start < len {
            let mut fewer = items.clone();
            fewer.drain(start..(start + chunk).min(len));
            if let Some(candidate) = build(fewer.clone())
                && search.check(&candidate).await
            {
                items = fewer;
                kept = Some(candidate);
                n = (n - 1).max(2);
                reduced = true;
                break;
            }
            start += chunk;
        }
        if !reduced {
            if n >= len {
                break;
            }
            n = (n * 2).min(len);
        }
    }
    kept
}

/// Per send: fewer repeats, then a packet with fewer properties and no payload, then fewer
/// bytes (for what does not decode).
async fn shrink_packets<'a, F: FnMut(Program) -> Verdict<'a>>(
    mut current: Program,
    search: &mut Search<F>,
) -> Program {
    for i in 0..current.steps.len() {
        let Action::Send { bytes, repeat } = current.steps[i].action.clone() else {
            continue;
        };
        // Repeats: one, else halve while it holds.
        if repeat > 1 {
            let once = with_send(&current, i, bytes.clone(), 1);
            if search.check(&once).await {
                current = once;
            } else {
                let mut r = repeat;
                while r / 2 > 1 {
                    let candidate = with_send(&current, i, bytes.clone(), r / 2);
                    if !search.check(&candidate).await {
                        break;
                    }
                    current = candidate;
                    r /= 2;
                }
            }
        }
        let Action::Send { bytes, repeat } = current.steps[i].action.clone() else {
            continue;
        };
        let v = current.version.protocol();
        match Packet::decode(&bytes, v) {
            Ok(packet) => {
                current = shrink_packet(current, i, packet, repeat, search).await;
            }
            Err(_) => {
                // Drop trailing bytes, halving the cut while it holds.
                let mut cut = bytes.len() / 2;
                let mut kept = bytes;
                while cut > 0 && kept.len() > 2 {
                    let shorter = kept.slice(..kept.len().saturating_sub(cut).max(2));
                    let candidate = with_send(&current, i, shorter.clone(), repeat);
                    if search.check(&candidate).await {
                        current = candidate;
                        kept = shorter;
                    } else {
                        cut /= 2;
                    }
                }
                // Then ddmin over what is left, byte by byte where it is short.
                if kept.len() <= BYTES_DDMIN_LIMIT {
                    let build = |b: Vec<u8>| {
                        (!b.is_empty()).then(|| with_send(&current, i, Bytes::from(b), repeat))
                    };
                    if let Some(smaller) = ddmin_list(kept.to_vec(), build, search).await {
                        current = smaller;
                    }
                }
            }
        }
    }
    current
}

fn with_send(p: &Program, i: usize, bytes: Bytes, repeat: u32) -> Program {
    let mut q = p.clone();
    q.steps[i].action = Action::Send { bytes, repeat };
    q
}

/// A decodable packet: ddmin over its properties, then an empty payload.
async fn shrink_packet<'a, F: FnMut(Program) -> Verdict<'a>>(
    mut current: Program,
    i: usize,
    mut packet: Packet,
    repeat: u32,
    search: &mut Search<F>,
) -> Program {
    let v = match &packet {
        Packet::Connect(c) => c.protocol,
        _ => current.version.protocol(),
    };
    let encode = |p: &Packet| p.to_bytes(v).ok();
    // Properties: ddmin over them.
    let props: Vec<_> = packet
        .properties_mut()
        .map(|p| p.iter().cloned().collect())
        .unwrap_or_default();
    let with_properties = |props: Vec<mqttspec_codec::Property>| {
        let mut smaller = packet.clone();
        let block = smaller.properties_mut()?;
        *block = props.into_iter().collect();
        Some(with_send(&current, i, encode(&smaller)?, repeat))
    };
    if let Some(smaller) = ddmin_list(props, with_properties, search).await {
        current = smaller;
        let Action::Send { bytes, .. } = &current.steps[i].action else {
            return current;
        };
        match Packet::decode(bytes, v) {
            Ok(p) => packet = p,
            Err(_) => return current,
        }
    }
    if let Packet::Publish(p) = &packet
        && !p.payload.is_empty()
    {
        let mut smaller = packet.clone();
        if let Packet::Publish(p) = &mut smaller {
            p.payload = Bytes::new();
        }
        if let Some(bytes) = encode(&smaller) {
            let candidate = with_send(&current, i, bytes, repeat);
            if search.check(&candidate).await {
                current = candidate;
            }
        }
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Version;
    use mqttspec_codec::{Property, ProtocolVersion, Publish, QoS};

    fn send(client: &str, bytes: &[u8]) -> ScriptStep {
        ScriptStep {
            client: client.into(),
            action: Action::Send {
                bytes: Bytes::copy_from_slice(bytes),
                repeat: 1,
            },
        }
    }

    fn program(steps: Vec<ScriptStep>) -> Program {
        Program {
            version: Version::V5,
            origin: "test".into(),
            steps,
        }
    }

    #[tokio::test]
    async fn ddmin_keeps_only_the_steps_the_finding_needs() {
        // The "finding": client b sends 0xAA after client a sent 0x01.
        let steps: Vec<ScriptStep> = (0..20u8)
            .map(|k| match k {
                4 => send("a", &[0x01]),
                15 => send("b", &[0xAA]),
                _ => send("c", &[0x40 + k]),
            })
            .collect();
        let fails = |p: Program| -> Verdict<'static> {
            let pos = |c: &str, b: u8| {
                p.steps.iter().position(|s| {
                    s.client == c
                        && matches!(&s.action, Action::Send { bytes, .. } if bytes[..] == [b])
                })
            };
            let holds = matches!((pos("a", 0x01), pos("b", 0xAA)), (Some(x), Some(y)) if x < y);
            Box::pin(async move { holds })
        };
        let (small, shrunk) = minimize(program(steps), 500, fails).await;
        assert_eq!(small.steps, [send("a", &[0x01]), send("b", &[0xAA])]);
        assert_eq!((shrunk.steps_before, shrunk.steps_after), (20, 2));
        assert!(shrunk.runs < 100, "{shrunk:?}");
    }

    #[tokio::test]
    async fn undecodable_bytes_shrink_to_the_ones_that_matter() {
        // The "finding": the bytes 0xDE then 0xAD, in that order, anywhere in one send.
        // A Remaining Length that never ends: the send does not frame, so it stays one.
        let mut noise: Vec<u8> = [0x30, 0xFF, 0xFF, 0xFF, 0xFF].to_vec();
        noise.extend((0..195u8).map(|b| b & 0x3F));
        noise[37] = 0xDE;
        noise[150] = 0xAD;
        let start = program(vec![send("a", &noise)]);
        let fails = |p: Program| -> Verdict<'static> {
            let holds = p.steps.iter().any(|s| match &s.action {
                Action::Send { bytes, .. } => bytes
                    .iter()
                    .position(|&b| b == 0xDE)
                    .is_some_and(|i| bytes[i..].contains(&0xAD)),
                _ => false,
            });
            Box::pin(async move { holds })
        };
        let (small, _) = minimize(start, 1000, fails).await;
        let Action::Send { bytes, .. } = &small.steps[0].action else {
            panic!()
        };
        assert_eq!(&bytes[..], [0xDE, 0xAD]);
    }

    #[tokio::test]
    async fn properties_shrink_to_the_ones_that_matter_and_the_budget_is_kept() {
        let mut p = Publish::new("t", QoS::AtMostOnce, "payload");
        for k in 0..100 {
            p.properties.push(Property::UserProperty(
                format!("k{k}").as_str().into(),
                "v".into(),
            ));
        }
        let bytes = Packet::Publish(p).to_bytes(ProtocolVersion::V5).unwrap();
        let start = program(vec![send("a", &[0xC0, 0x00]), send("a", &bytes)]);
        // The "finding": more than 10 user properties in one PUBLISH.
        let fails = |p: Program| -> Verdict<'static> {
            let holds = p.steps.iter().any(|s| match &s.action {
                Action::Send { bytes, .. } => match Packet::decode(bytes, ProtocolVersion::V5) {
                    Ok(Packet::Publish(x)) => x.properties.user_properties().count() > 10,
                    _ => false,
                },
                _ => false,
            });
            Box::pin(async move { holds })
        };
        let (small, _) = minimize(start.clone(), 1000, fails).await;
        assert_eq!(small.steps.len(), 1);
        let Action::Send { bytes, .. } = &small.steps[0].action else {
            panic!()
        };
        let Ok(Packet::Publish(x)) = Packet::decode(bytes, ProtocolVersion::V5) else {
            panic!()
        };
        assert_eq!(x.properties.len(), 11);
        assert!(x.payload.is_empty());

        let mut calls = 0;
        let counting = |_: Program| -> Verdict<'static> {
            calls += 1;
            Box::pin(async { true })
        };
        let _ = minimize(start, 3, counting).await;
        assert_eq!(calls, 3);
    }
}
