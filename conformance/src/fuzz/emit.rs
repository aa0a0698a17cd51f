//! A finding as a scenario: the minimized program's bytes as `send: {hex}` steps (each
//! with its decoding in a comment), `expect_valid` on every connection (the checks that
//! found it), and `expect_alive` last (crash and hang). What the broker did when the fuzzer
//! last ran it goes in comments above, so the file explains itself to a vendor.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use mqttspec_codec::{Packet, render, spec};
use mqttspec_report::{Direction, TranscriptEntry};

use super::minimize::Shrunk;
use super::program::{MARKER, Program};
use crate::engine::client::Down;
use crate::engine::oracle::Violation;
use crate::engine::oracle::frames;
use crate::scenario::Version;
use crate::scenario::script::Action;

/// What was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The broker's answers broke a rule.
    Violation {
        client: String,
        violation: Violation,
    },
    /// The broker stopped serving.
    Down(Down),
}

impl Kind {
    /// Short name: the violated check (`ack-packet-id`, …), `crash` or `hang`.
    pub fn rule(&self) -> &str {
        match self {
            Kind::Violation { violation, .. } => violation.rule,
            Kind::Down(d) => d.kind(),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Kind::Violation { client, violation } => format!("{violation} (client {client})"),
            Kind::Down(d) => d.to_string(),
        }
    }
}

/// One finding, minimized and confirmed.
#[derive(Clone, Debug)]
pub struct Finding {
    pub kind: Kind,
    /// The minimized program, written with [`MARKER`].
    pub program: Program,
    /// Which of its steps went out in the last confirming run.
    pub performed: Vec<bool>,
    /// That run's wire transcript.
    pub observed: Vec<TranscriptEntry>,
    /// For a crash of a broker the run started: its exit status and last words.
    pub broker_said: Option<String>,
    pub shrunk: Shrunk,
    /// Execution number that found it, and the run's seed.
    pub execution: u64,
    pub seed: u64,
    /// Where the broker was and how it was started.
    pub target: String,
    pub found_at: String,
    /// Bound the liveness check used.
    pub hang_timeout_ms: u64,
    /// Did it show again when run again? If not, the file holds the input as first seen.
    pub confirmed: bool,
}

impl Finding {
    /// A hash of what the program sends and what broke: stable across runs.
    fn hash(&self) -> u32 {
        let mut h = 0xCBF2_9CE4_8422_2325u64;
        let mut feed = |bytes: &[u8]| {
            for &b in bytes {
                h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3);
            }
        };
        feed(self.kind.rule().as_bytes());
        for s in &self.program.steps {
            feed(s.client.as_bytes());
            match &s.action {
                Action::Send { bytes, repeat } => {
                    feed(bytes);
                    feed(&repeat.to_be_bytes());
                }
                Action::Close(Some(b)) => feed(b),
                Action::Open => feed(b"open"),
                Action::Close(None) => feed(b"drop"),
                Action::Wait(d) => feed(&d.as_millis().to_be_bytes()),
            }
        }
        h as u32
    }

    /// The scenario id: `fuzz/<rule>-<hash>`.
    pub fn id(&self) -> String {
        format!("fuzz/{}-{:08x}", self.kind.rule(), self.hash())
    }

    /// The token written where the fuzzer's [`MARKER`] stood: unique per finding, so its
    /// scenario runs beside others on one broker.
    fn token(&self) -> [u8; 8] {
        super::program::token(0x5EED, u64::from(self.hash()))
    }

    /// The version the scenario runs under: the one the broken rule belongs to (the
    /// connection's CONNECT may have named another than the program's).
    pub fn version(&self) -> Version {
        match &self.kind {
            Kind::Violation { violation, .. } => Version::of(violation.version),
            Kind::Down(_) => self.program.version,
        }
    }

    /// The statements the scenario cites, all checked against the spec lists.
    fn statements(&self) -> Vec<String> {
        let v = self.version();
        // What the broker should have refused: the rules the packets sent break.
        let mut refused: BTreeSet<String> = BTreeSet::new();
        let mut malformed_sent = false;
        for s in &self.program.steps {
            if let Action::Send { bytes, .. } = &s.action {
                for r in frames(bytes) {
                    if let Err(e) = Packet::decode(&bytes.slice(r), v.protocol()) {
                        malformed_sent = true;
                        refused.extend(e.statement_id().map(str::to_owned));
                    }
                }
            }
        }
        // On a Malformed Packet or Protocol Error the server closes the connection.
        let close_rule = if v == Version::V5 {
            "MQTT-4.13.1-1"
        } else {
            "MQTT-4.8.0-1"
        };
        let mut ids: BTreeSet<String> = BTreeSet::new();
        match &self.kind {
            Kind::Violation { violation, .. } => match violation.statement {
                Some(s) => {
                    ids.insert(s.to_owned());
                }
                // A malformed packet from the broker that no tagged statement names (an
                // invalid property value, say): it passed on what it should have refused.
                None => {
                    ids.extend(refused);
                    if malformed_sent || ids.is_empty() {
                        ids.insert(close_rule.to_owned());
                    }
                }
            },
            Kind::Down(_) => {
                // The broker must still answer PINGREQ, and enforce the rules broken.
                ids.insert("MQTT-3.12.4-1".to_owned());
                ids.extend(refused);
            }
        }
        ids.retain(|id| spec::statement(v.spec(), id).is_some());
        if ids.is_empty() {
            ids.insert("MQTT-3.12.4-1".to_owned());
        }
        ids.into_iter().collect()
    }

    /// The scenario file's text.
    pub fn scenario(&self) -> String {
        let v = self.version();
        let program = self.program.instantiate(&self.token());
        let marker = std::str::from_utf8(MARKER).unwrap_or_default();
        let token = String::from_utf8_lossy(&self.token()).into_owned();
        let mut y = String::new();
        let _ = writeln!(
            y,
            "# Found by `mqttspec fuzz` (seed {}, execution {}) against {} on {}.",
            self.seed, self.execution, self.target, self.found_at
        );
        let _ = writeln!(
            y,
            "# Minimized from {} steps / {} bytes to {} / {} in {} runs.",
            self.shrunk.steps_before,
            self.shrunk.bytes_before,
            self.shrunk.steps_after,
            self.shrunk.bytes_after,
            self.shrunk.runs
        );
        let _ = writeln!(
            y,
            "# It grew from the built-in scenario `{}`.",
            self.program.origin
        );
        let _ = writeln!(y, "#\n# Found: {}", one_line(&self.kind.describe(), 200));
        if !self.confirmed {
            let _ = writeln!(
                y,
                "# Unconfirmed: running the input again did not show it (timing, or state left by\n# other inputs); this is the input as first seen, not minimized."
            );
        }
        if let Some(said) = &self.broker_said {
            let _ = writeln!(y, "# The broker: {}", one_line(said, 300));
        }
        let _ = writeln!(
            y,
            "#\n# What the broker did when the fuzzer last ran it (topics and client ids there\n# carry the token {marker} where this file has {token}):"
        );
        for line in self.observed.iter().take(60) {
            let arrow = match line.direction {
                Direction::Sent => "->",
                Direction::Received => "<-",
                Direction::Event => "  ",
            };
            let _ = writeln!(
                y,
                "#   {:>8.1} ms {:<8} {arrow} {}",
                line.offset_ms,
                line.client,
                one_line(&line.decoded, 140)
            );
        }
        if self.observed.len() > 60 {
            let _ = writeln!(y, "#   … {} more", self.observed.len() - 60);
        }
        let title = format!(
            "Fuzz finding ({}): {}",
            self.kind.rule(),
            self.kind.describe()
        );
        let _ = writeln!(y, "id: {}", self.id());
        let _ = writeln!(y, "title: {}", quoted(&one_line(&title, 160)));
        let _ = writeln!(
            y,
            "statements: {{\"{}\": [{}]}}",
            v.as_str(),
            self.statements().join(", ")
        );
        let _ = writeln!(y, "versions: [\"{}\"]", v.as_str());
        let _ = writeln!(y, "tags: [fuzz, {}]", self.kind.rule());
        let _ = writeln!(y, "steps:");
        let mut open: Vec<String> = Vec::new();
        let mut last: Option<&str> = None;
        for (i, step) in program.steps.iter().enumerate() {
            if !self.performed.get(i).copied().unwrap_or(false) {
                continue;
            }
            let c = step.client.as_str();
            if let Some(prev) = last
                && prev != c
                && !c.is_empty()
            {
                // The fuzzer waited for the broker to act on one connection before the next.
                let _ = writeln!(y, "  - wait: {{ms: 50}}");
            }
            if !c.is_empty() {
                last = Some(c);
            }
            match &step.action {
                Action::Open => {
                    if open.iter().any(|o| o == c) {
                        let _ = writeln!(y, "  - expect_valid: {{client: {c}, for_ms: 50}}");
                    } else {
                        open.push(c.to_owned());
                    }
                    let _ = writeln!(y, "  - connect: {{client: {c}, open_only: true}}");
                }
                Action::Send { bytes, repeat } => {
                    if !open.iter().any(|o| o == c) {
                        open.push(c.to_owned());
                        let _ = writeln!(y, "  - connect: {{client: {c}, open_only: true}}");
                    }
                    let _ = writeln!(
                        y,
                        "  # {}",
                        one_line(&render::bytes(bytes, v.protocol()), 160)
                    );
                    let repeat = if *repeat > 1 {
                        format!(", repeat: {repeat}")
                    } else {
                        String::new()
                    };
                    let _ = writeln!(
                        y,
                        "  - send: {{client: {c}, hex: \"{}\"{repeat}}}",
                        render::hex(bytes)
                    );
                }
                Action::Close(disconnect) => {
                    if !open.iter().any(|o| o == c) {
                        continue;
                    }
                    if let Some(bytes) = disconnect {
                        let _ = writeln!(
                            y,
                            "  # {}",
                            one_line(&render::bytes(bytes, v.protocol()), 160)
                        );
                        let _ = writeln!(
                            y,
                            "  - send: {{client: {c}, hex: \"{}\"}}",
                            render::hex(bytes)
                        );
                    }
                    let _ = writeln!(y, "  - expect_valid: {{client: {c}, for_ms: 100}}");
                    let _ = writeln!(y, "  - drop: {{client: {c}}}");
                    open.retain(|o| o != c);
                }
                Action::Wait(d) => {
                    let _ = writeln!(y, "  - wait: {{ms: {}}}", d.as_millis());
                }
            }
        }
        for c in &open {
            let _ = writeln!(y, "  - expect_valid: {{client: {c}, for_ms: 300}}");
        }
        let _ = writeln!(
            y,
            "  - expect_alive: {{within_ms: {}}}",
            self.hang_timeout_ms
        );
        y
    }

    /// Writes the scenario under `dir` (`dir/fuzz/<rule>-<hash>.yaml`); returns the path.
    pub fn write(&self, dir: &Path) -> std::io::Result<PathBuf> {
        let path = dir.join(format!("{}.yaml", self.id()));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, self.scenario())?;
        Ok(path)
    }
}

fn one_line(text: &str, max: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() <= max {
        flat
    } else {
        let cut: String = flat.chars().take(max).collect();
        format!("{cut}…")
    }
}

/// A double-quoted YAML scalar (JSON's string syntax is YAML's).
fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bytes::Bytes;
    use mqttspec_codec::{ProtocolVersion, Publish, QoS};

    use super::*;
    use crate::fuzz::program::marker_names;
    use crate::scenario::script::ScriptStep;
    use crate::scenario::{Step, load_str};

    fn finding(kind: Kind) -> Finding {
        let names = marker_names();
        let v = ProtocolVersion::V5;
        let connect = crate::scenario::packet::ConnectSpec::default()
            .build(&names, v, &names.client_id("a"))
            .unwrap();
        let mut publish = Publish::new(format!("{}/t", names.prefix), QoS::AtLeastOnce, "x");
        publish.packet_id = 0x8001;
        let send = |client: &str, p: Packet| ScriptStep {
            client: client.into(),
            action: Action::Send {
                bytes: p.to_bytes(v).unwrap(),
                repeat: 1,
            },
        };
        Finding {
            kind,
            program: Program {
                version: Version::V5,
                origin: "publish/qos1/puback".into(),
                steps: vec![
                    send("a", Packet::Connect(connect)),
                    send("a", Packet::Publish(publish)),
                    // Not performed in the last run: left out of the scenario.
                    send("b", Packet::PingReq),
                    ScriptStep {
                        client: "a".into(),
                        action: Action::Close(Some(Bytes::from_static(&[0xE0, 0x00]))),
                    },
                    ScriptStep {
                        client: String::new(),
                        action: Action::Wait(Duration::from_millis(20)),
                    },
                ],
            },
            performed: vec![true, true, false, true, true],
            observed: Vec::new(),
            broker_said: None,
            shrunk: Shrunk::default(),
            execution: 7,
            seed: 1,
            target: "127.0.0.1:1883 (address)".into(),
            found_at: "2026-12-07T00:00:00Z".into(),
            hang_timeout_ms: 3000,
            confirmed: true,
        }
    }

    #[test]
    fn a_violation_becomes_a_scenario_that_loads() {
        let f = finding(Kind::Violation {
            client: "a".into(),
            violation: Violation {
                rule: "ack-packet-id",
                statement: Some("MQTT-2.2.1-5"),
                version: ProtocolVersion::V5,
                message: "PUBACK for packet identifier 1".into(),
            },
        });
        let text = f.scenario();
        let s = load_str("finding.yaml", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(s.id, f.id());
        assert!(s.id.starts_with("fuzz/ack-packet-id-"), "{}", s.id);
        assert_eq!(s.statements.for_version(Version::V5), ["MQTT-2.2.1-5"]);
        assert!(s.tags.contains(&"fuzz".to_owned()));
        // The fuzzer's marker never reaches the steps: a token of the finding's own does.
        let marker = std::str::from_utf8(MARKER).unwrap();
        let hex_marker = render::hex(MARKER);
        for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
            assert!(
                !line.contains(marker) && !line.contains(&hex_marker),
                "{line}"
            );
        }
        let kinds: Vec<&str> = s.steps.iter().map(Step::kind).collect();
        assert_eq!(
            kinds,
            [
                "connect",
                "send",
                "send",
                "send",
                "expect_valid",
                "drop",
                "wait",
                "expect_alive"
            ]
        );
    }

    #[test]
    fn the_committed_mosquitto_findings_still_load() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../reports/brokers/mosquitto/fuzz");
        let catalog = crate::scenario::load_dir(&dir).expect("the findings load");
        assert_eq!(catalog.scenarios.len(), 3);
        for s in &catalog.scenarios {
            assert!(s.id.starts_with("fuzz/") && s.tags.iter().any(|t| t == "fuzz"));
            assert!(matches!(s.steps.last(), Some(Step::ExpectAlive(_))));
        }
    }

    #[test]
    fn a_malformed_packet_passed_on_cites_the_duty_to_close() {
        // Found against Mosquitto: a PUBLISH with Payload Format Indicator 2 (a Protocol
        // Error no tagged statement names) forwarded to a subscriber.
        let mut f = finding(Kind::Violation {
            client: "a".into(),
            violation: Violation {
                rule: "malformed",
                statement: None,
                version: ProtocolVersion::V5,
                message: "payload format indicator (0x01) has the invalid value 2".into(),
            },
        });
        let mut publish = Publish::new("t", QoS::AtMostOnce, "x");
        publish
            .properties
            .push(mqttspec_codec::Property::PayloadFormatIndicator(2));
        f.program.steps[1].action = Action::Send {
            bytes: Packet::Publish(publish)
                .to_bytes(ProtocolVersion::V5)
                .unwrap(),
            repeat: 1,
        };
        let s = load_str("malformed.yaml", &f.scenario()).expect("loads");
        assert_eq!(s.statements.for_version(Version::V5), ["MQTT-4.13.1-1"]);
    }

    #[test]
    fn a_crash_cites_pingresp_and_the_rules_its_packets_break() {
        let mut f = finding(Kind::Down(Down::Refused("connection refused".into())));
        // A PUBLISH with both QoS bits set: MQTT-3.3.1-4 is broken.
        let bad = [0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01];
        f.program.steps[1].action = Action::Send {
            bytes: Bytes::copy_from_slice(&bad),
            repeat: 1,
        };
        let s = load_str("crash.yaml", &f.scenario()).expect("loads");
        let cited = s.statements.for_version(Version::V5);
        assert!(cited.contains(&"MQTT-3.12.4-1".to_owned()), "{cited:?}");
        assert!(cited.contains(&"MQTT-3.3.1-4".to_owned()), "{cited:?}");
        assert!(s.id.starts_with("fuzz/crash-"));
    }
}
