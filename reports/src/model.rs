//! What a run produced: per case its verdict, the statements it traces to, and the wire
//! transcript behind the verdict.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Bumped on any incompatible change to the JSON form.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunResults {
    pub schema_version: u32,
    pub tool: ToolInfo,
    pub broker: BrokerInfo,
    /// RFC 3339 UTC time the run started.
    pub started_at: String,
    pub duration_ms: u64,
    /// Whether `warn` counted as failure (`--strict`).
    pub strict: bool,
    pub summary: Summary,
    pub cases: Vec<CaseResult>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrokerInfo {
    /// `host:port` tested.
    pub address: String,
    /// How the broker was reached: `embedded` (the reference broker), `address`,
    /// `spawn: CMD …` (started by `--spawn`), …
    pub launcher: String,
    /// What each protocol version's CONNACK revealed (5.0 properties; for 3.1.1 only that
    /// it connected), keyed by protocol version.
    #[serde(default)]
    pub capabilities: BTreeMap<String, BTreeMap<String, String>>,
    /// What a broker the run started itself (`--spawn`) wrote: the last ~64 KiB of its
    /// standard output and error, with restarts and its exit marked. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
}

/// Counts of cases by outcome.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    pub total: usize,
    pub pass: usize,
    pub fail: usize,
    pub warn: usize,
    pub skipped: usize,
    pub error: usize,
    pub timeout: usize,
}

impl Summary {
    pub fn of<'a>(cases: impl IntoIterator<Item = &'a CaseResult>) -> Summary {
        let mut s = Summary::default();
        for case in cases {
            s.total += 1;
            match case.outcome {
                Outcome::Pass => s.pass += 1,
                Outcome::Fail => s.fail += 1,
                Outcome::Warn => s.warn += 1,
                Outcome::Skipped => s.skipped += 1,
                Outcome::Error => s.error += 1,
                Outcome::Timeout => s.timeout += 1,
            }
        }
        s
    }
}

/// A verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The broker did what the statements require.
    Pass,
    /// A MUST was broken.
    Fail,
    /// A SHOULD was not met (a failure under `--strict`).
    Warn,
    /// Not run: the broker lacks a capability the scenario needs, or it does not apply.
    Skipped,
    /// The harness or the network failed; no verdict on the broker.
    Error,
    /// The broker did not answer within the step's bound.
    Timeout,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Warn => "warn",
            Outcome::Skipped => "skipped",
            Outcome::Error => "error",
            Outcome::Timeout => "timeout",
        }
    }
}

/// A normative statement a case tests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatementCitation {
    /// E.g. `MQTT-3.3.1-4`.
    pub id: String,
    /// `3.1.1` or `5.0`.
    pub spec: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseResult {
    /// Scenario id, e.g. `publish/qos1/puback`.
    pub id: String,
    pub title: String,
    /// `3.1.1` or `5.0`.
    pub protocol: String,
    /// `must`, `should` or `may`.
    pub level: String,
    pub statements: Vec<StatementCitation>,
    /// CVE and issue ids, and other labels.
    #[serde(default)]
    pub tags: Vec<String>,
    pub outcome: Outcome,
    pub duration_ms: u64,
    /// Why the case did not pass (or was skipped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The step (1-based) where the verdict was reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
    /// The statement the failing step checks, if it names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_statement: Option<String>,
    #[serde(default)]
    pub transcript: Vec<TranscriptEntry>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// From the test client to the broker.
    Sent,
    /// From the broker to the test client.
    Received,
    /// A connection event: connected, closed by the broker, dropped by the client, …
    Event,
}

/// One line of a wire transcript.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranscriptEntry {
    /// The scenario's name for the client connection.
    pub client: String,
    pub direction: Direction,
    /// Milliseconds since the case started.
    pub offset_ms: f64,
    /// The bytes, in hex (empty for events).
    pub hex: String,
    /// The decoded packet, the decode error, or the event.
    pub decoded: String,
}
