//! The scenario format: YAML-scripted packet exchanges, each naming the normative statements
//! it tests. `scenarios/README.md` documents it for authors; this module is its definition.
//!
//! Every struct rejects unknown fields, so a typo is a load error with file, line and column,
//! not a silently ignored step.

mod load;
pub mod packet;
pub mod pattern;
pub mod script;
mod value;

use std::fmt;

use serde::Deserialize;

pub use load::{Catalog, LoadError, load_dir, load_str};
pub use value::{Bin, Var};

/// A protocol version a scenario applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
pub enum Version {
    #[serde(rename = "3.1.1")]
    V3_1_1,
    #[serde(rename = "5.0", alias = "5")]
    V5,
}

impl Version {
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V3_1_1 => "3.1.1",
            Version::V5 => "5.0",
        }
    }

    pub fn protocol(self) -> mqttspec_codec::ProtocolVersion {
        match self {
            Version::V3_1_1 => mqttspec_codec::ProtocolVersion::V3_1_1,
            Version::V5 => mqttspec_codec::ProtocolVersion::V5,
        }
    }

    pub fn spec(self) -> mqttspec_codec::spec::SpecVersion {
        self.protocol().spec()
    }

    /// The scenario version whose statements cover `v` (3.1 shares 3.1.1's).
    pub fn of(v: mqttspec_codec::ProtocolVersion) -> Version {
        if v.is_v5() {
            Version::V5
        } else {
            Version::V3_1_1
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// RFC 2119 level of what the scenario checks: a broken `must` fails, a missed `should`
/// warns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    #[default]
    Must,
    Should,
    May,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Must => "must",
            Level::Should => "should",
            Level::May => "may",
        }
    }
}

/// What the broker must offer for the scenario to apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    Qos1,
    Qos2,
    Retain,
    Wildcard,
    SharedSubscriptions,
    SubscriptionIdentifiers,
    TopicAlias,
    /// The broker accepts a zero-length client identifier.
    EmptyClientId,
    /// The broker offers the `MQTTSPEC-CHALLENGE` enhanced authentication method (5.0
    /// §4.12): AUTH 0x18 with a nonce as Authentication Data, answered by the nonce's bytes
    /// in reverse order. The reference broker has it; another broker can add it to be
    /// tested on AUTH flows.
    ChallengeAuth,
}

impl Capability {
    pub const ALL: [Capability; 9] = [
        Capability::Qos1,
        Capability::Qos2,
        Capability::Retain,
        Capability::Wildcard,
        Capability::SharedSubscriptions,
        Capability::SubscriptionIdentifiers,
        Capability::TopicAlias,
        Capability::EmptyClientId,
        Capability::ChallengeAuth,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Capability::Qos1 => "qos1",
            Capability::Qos2 => "qos2",
            Capability::Retain => "retain",
            Capability::Wildcard => "wildcard",
            Capability::SharedSubscriptions => "shared_subscriptions",
            Capability::SubscriptionIdentifiers => "subscription_identifiers",
            Capability::TopicAlias => "topic_alias",
            Capability::EmptyClientId => "empty_client_id",
            Capability::ChallengeAuth => "challenge_auth",
        }
    }

    pub fn parse(name: &str) -> Option<Capability> {
        Capability::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// The statements a scenario tests: one list for every version it applies to, or a list per
/// version (ids differ between 3.1.1 and 5.0 for the same rule).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Statements {
    Same(Vec<String>),
    PerVersion(std::collections::BTreeMap<Version, Vec<String>>),
}

impl Statements {
    pub fn for_version(&self, v: Version) -> &[String] {
        match self {
            Statements::Same(ids) => ids,
            Statements::PerVersion(map) => map.get(&v).map_or(&[], Vec::as_slice),
        }
    }
}

/// One scenario file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Hierarchical id following the spec's areas, e.g. `publish/qos2/exactly-once`.
    pub id: String,
    pub title: String,
    pub statements: Statements,
    pub versions: Vec<Version>,
    #[serde(default)]
    pub level: Level,
    #[serde(default)]
    pub requires: Vec<Capability>,
    /// The scenario applies only to brokers that lack these (how a broker must refuse what
    /// it does not offer); skipped for the others.
    #[serde(default)]
    pub lacks: Vec<Capability>,
    /// CVE or issue ids and other labels.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Steps are written `- connect: {...}` (single-key maps), as are properties and
    /// tamperings inside them.
    #[serde(with = "serde_yaml::with::singleton_map_recursive")]
    pub steps: Vec<Step>,
    /// Where it was loaded from (set by the loader).
    #[serde(skip)]
    pub source: String,
    /// Its YAML text (for a family member, the expanded template).
    #[serde(skip)]
    pub text: String,
}

/// One step. Each kind may be limited to some protocol versions with `only`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// Open a connection and send CONNECT; by default expect a successful CONNACK.
    Connect(ConnectStep),
    /// Send a packet: structured, structured with deliberate violations, or raw hex.
    Send(SendStep),
    /// The next packet from the broker on this connection matches the pattern.
    Expect(ExpectStep),
    /// Several packets arrive on this connection in any order, some of them optional; or
    /// one of several such sets (where the server may choose, e.g. one copy or two).
    ExpectAll(ExpectAllStep),
    /// The broker closes the connection (optionally after a DISCONNECT with one of the
    /// listed reason codes, under 5.0).
    ExpectClosed(ExpectClosedStep),
    /// No packet arrives on this connection for the given time.
    ExpectNothing(ExpectNothingStep),
    /// Whatever arrived on this connection, and arrives within the given time, is a valid
    /// answer to what the client sent (the checks of [`crate::engine::oracle`]).
    ExpectValid(ExpectValidStep),
    /// The broker still serves: a new connection gets a CONNACK and a PINGRESP in time
    /// (else it crashed or hangs).
    ExpectAlive(ExpectAliveStep),
    /// Let time pass: only where the spec needs it (keep-alive, expiry, delays).
    Wait(WaitStep),
    /// Go on only if captured values match patterns; otherwise the case is skipped (the
    /// broker took a path, allowed by the spec, on which the statement cannot be checked).
    SkipUnless(SkipUnlessStep),
    /// Send DISCONNECT and close the connection.
    Disconnect(DisconnectStep),
    /// Close the connection without DISCONNECT (an abnormal close, for wills).
    Drop(DropStep),
}

impl Step {
    pub fn only(&self) -> Option<&[Version]> {
        match self {
            Step::Connect(s) => s.only.as_deref(),
            Step::Send(s) => s.only.as_deref(),
            Step::Expect(s) => s.only.as_deref(),
            Step::ExpectAll(s) => s.only.as_deref(),
            Step::ExpectClosed(s) => s.only.as_deref(),
            Step::ExpectNothing(s) => s.only.as_deref(),
            Step::ExpectValid(s) => s.only.as_deref(),
            Step::ExpectAlive(s) => s.only.as_deref(),
            Step::Wait(s) => s.only.as_deref(),
            Step::SkipUnless(s) => s.only.as_deref(),
            Step::Disconnect(s) => s.only.as_deref(),
            Step::Drop(s) => s.only.as_deref(),
        }
    }

    pub fn applies_to(&self, v: Version) -> bool {
        self.only().is_none_or(|only| only.contains(&v))
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Step::Connect(_) => "connect",
            Step::Send(_) => "send",
            Step::Expect(_) => "expect",
            Step::ExpectAll(_) => "expect_all",
            Step::ExpectClosed(_) => "expect_closed",
            Step::ExpectNothing(_) => "expect_nothing",
            Step::ExpectValid(_) => "expect_valid",
            Step::ExpectAlive(_) => "expect_alive",
            Step::Wait(_) => "wait",
            Step::SkipUnless(_) => "skip_unless",
            Step::Disconnect(_) => "disconnect",
            Step::Drop(_) => "drop",
        }
    }

    /// The statement this step checks, when the scenario names one per step.
    pub fn statement(&self) -> Option<&str> {
        match self {
            Step::Connect(s) => s.statement.as_deref(),
            Step::Expect(s) => s.statement.as_deref(),
            Step::ExpectAll(s) => s.statement.as_deref(),
            Step::ExpectClosed(s) => s.statement.as_deref(),
            Step::ExpectNothing(s) => s.statement.as_deref(),
            Step::ExpectValid(s) => s.statement.as_deref(),
            Step::ExpectAlive(s) => s.statement.as_deref(),
            _ => None,
        }
    }
}

fn default_client() -> String {
    "a".to_owned()
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectStep {
    #[serde(default = "default_client")]
    pub client: String,
    /// Default: a unique id per case and client (alphanumeric, at most 23 characters, which
    /// every broker must accept: MQTT-3.1.3-5). `""` sends a zero-length id.
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub clean_start: Option<bool>,
    #[serde(default)]
    pub keep_alive: Option<u16>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<Bin>,
    #[serde(default)]
    pub will: Option<packet::WillSpec>,
    #[serde(default)]
    pub properties: Vec<packet::PropertySpec>,
    /// Deliberate violations applied to the CONNECT bytes.
    #[serde(default)]
    pub tamper: Vec<packet::TamperSpec>,
    /// Override the protocol level byte's version (e.g. send a 3.1.1 CONNECT in a 5.0 case).
    #[serde(default)]
    pub protocol: Option<Version>,
    /// Open the network connection without sending CONNECT (to send something else
    /// first).
    #[serde(default)]
    pub open_only: bool,
    /// `any`: a CONNACK may come in the 3.1.1 or the 5.0 layout (for a CONNECT whose
    /// protocol level no version uses, which the server cannot answer in its own).
    #[serde(default)]
    pub connack_layout: Option<ConnackLayout>,
    /// What to expect back: default `{connack: {reason_code: 0}}` (3.1.1: `return_code: 0`);
    /// `none` to expect nothing here (a later step checks).
    #[serde(default)]
    pub expect: Option<serde_yaml::Value>,
    #[serde(default)]
    pub statement: Option<String>,
    #[serde(default)]
    pub only: Option<Vec<Version>>,
}

pub use packet::SendStep;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnackLayout {
    Any,
}

/// The next packet from the broker on this connection matches a pattern: one packet kind
/// key with a pattern of fields (omitted fields are don't-care; `"$name"` captures), or
/// `one_of` alternatives (each a pattern, or `closed: {}`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectStep {
    #[serde(default = "default_client")]
    pub client: String,
    #[serde(default)]
    pub connack: Option<serde_yaml::Mapping>,
    #[serde(default)]
    pub publish: Option<serde_yaml::Mapping>,
    #[serde(default)]
    pub puback: Option<serde_yaml::Mapping>,
    #[serde(default)]
    pub pubrec: Option<serde_yaml::Mapping>,
    #[serde(default)]
    pub pubrel: Option<serde_yaml::Mapping>,
    #[serde(default)]
    pub pubcomp: Option<serde_yaml::Mapping>,
    #[serde(default)]
    pub suback: Option<serde_yaml::Mapping>,
    #[serde(default)]
    pub unsuback: Option<serde_yaml::Mapping>,
    #[serde(default)]
    pub pingresp: Option<serde_yaml::Mapping>,
    #[serde(default)]
    pub disconnect: Option<serde_yaml::Mapping>,
    #[serde(default)]
    pub auth: Option<serde_yaml::Mapping>,
    #[serde(default)]
    pub one_of: Option<Vec<serde_yaml::Mapping>>,
    /// Bound on the wait, in milliseconds (default 3,000).
    #[serde(default)]
    pub within_ms: Option<u64>,
    #[serde(default)]
    pub statement: Option<String>,
    #[serde(default)]
    pub only: Option<Vec<Version>>,
}

impl ExpectStep {
    /// The alternatives this step accepts, each a single-key mapping (`{puback: {...}}`).
    pub fn alternatives(&self) -> Vec<serde_yaml::Mapping> {
        let single = [
            ("connack", &self.connack),
            ("publish", &self.publish),
            ("puback", &self.puback),
            ("pubrec", &self.pubrec),
            ("pubrel", &self.pubrel),
            ("pubcomp", &self.pubcomp),
            ("suback", &self.suback),
            ("unsuback", &self.unsuback),
            ("pingresp", &self.pingresp),
            ("disconnect", &self.disconnect),
            ("auth", &self.auth),
        ];
        let mut out: Vec<serde_yaml::Mapping> = single
            .into_iter()
            .filter_map(|(kind, pattern)| {
                pattern.as_ref().map(|p| {
                    let mut m = serde_yaml::Mapping::new();
                    m.insert(kind.into(), serde_yaml::Value::Mapping(p.clone()));
                    m
                })
            })
            .collect();
        if let Some(alternatives) = &self.one_of {
            out.extend(alternatives.iter().cloned());
        }
        out
    }
}

/// Packets that must all arrive, in any order, and packets that may arrive among them
/// (each at most once). Each entry is a single-key pattern, as in `expect`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PacketSet {
    #[serde(default)]
    pub packets: Vec<serde_yaml::Mapping>,
    #[serde(default)]
    pub optional: Vec<serde_yaml::Mapping>,
}

/// `expect_all`: the packets of one set arrive in any order (`packets`, `optional`), or
/// those of one of several sets (`one_of`). After the required packets, optional ones are
/// still taken for `settle_ms` (default 0), so a late optional copy cannot reach the next
/// step; anything else fails.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectAllStep {
    #[serde(default = "default_client")]
    pub client: String,
    #[serde(default)]
    pub packets: Vec<serde_yaml::Mapping>,
    #[serde(default)]
    pub optional: Vec<serde_yaml::Mapping>,
    #[serde(default)]
    pub one_of: Option<Vec<PacketSet>>,
    /// Bound on the wait for the required packets, in milliseconds (default 3,000).
    #[serde(default)]
    pub within_ms: Option<u64>,
    #[serde(default)]
    pub settle_ms: Option<u64>,
    #[serde(default)]
    pub statement: Option<String>,
    #[serde(default)]
    pub only: Option<Vec<Version>>,
}

impl ExpectAllStep {
    /// The sets this step accepts.
    pub fn sets(&self) -> Vec<PacketSet> {
        let mut sets = Vec::new();
        if !self.packets.is_empty() || !self.optional.is_empty() {
            sets.push(PacketSet {
                packets: self.packets.clone(),
                optional: self.optional.clone(),
            });
        }
        sets.extend(self.one_of.iter().flatten().cloned());
        sets
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectClosedStep {
    #[serde(default = "default_client")]
    pub client: String,
    /// Reason codes a DISCONNECT before the close may carry (5.0); omitted: any.
    #[serde(default)]
    pub disconnect: Option<Vec<u8>>,
    /// Reason codes a CONNACK before the close may carry; omitted: no CONNACK allowed.
    #[serde(default)]
    pub connack: Option<Vec<u8>>,
    #[serde(default)]
    pub within_ms: Option<u64>,
    #[serde(default)]
    pub statement: Option<String>,
    #[serde(default)]
    pub only: Option<Vec<Version>>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectNothingStep {
    #[serde(default = "default_client")]
    pub client: String,
    pub for_ms: u64,
    #[serde(default)]
    pub statement: Option<String>,
    #[serde(default)]
    pub only: Option<Vec<Version>>,
}

/// `expect_valid: {client: a, for_ms: 300}`: reads the connection for `for_ms` (or until it
/// closes), then fails on the first thing the server did wrong since it opened.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectValidStep {
    #[serde(default = "default_client")]
    pub client: String,
    /// How long to keep reading, in milliseconds (default 500).
    #[serde(default)]
    pub for_ms: Option<u64>,
    #[serde(default)]
    pub statement: Option<String>,
    #[serde(default)]
    pub only: Option<Vec<Version>>,
}

/// `expect_alive: {within_ms: 3000}`: a new connection (its own client identifier) sends
/// CONNECT and PINGREQ; the broker must answer both within the bound.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectAliveStep {
    /// Bound on each answer, in milliseconds (default 3,000).
    #[serde(default)]
    pub within_ms: Option<u64>,
    #[serde(default)]
    pub statement: Option<String>,
    #[serde(default)]
    pub only: Option<Vec<Version>>,
}

/// `skip_unless: {vars: {rc: {any_of: [0x80, 0x99]}}, reason: "…"}`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkipUnlessStep {
    /// Captured variables (without `$`) and the pattern each must match.
    pub vars: serde_yaml::Mapping,
    /// Why the case cannot go on otherwise: the skip message.
    pub reason: String,
    #[serde(default)]
    pub only: Option<Vec<Version>>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitStep {
    pub ms: u64,
    #[serde(default)]
    pub only: Option<Vec<Version>>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisconnectStep {
    #[serde(default = "default_client")]
    pub client: String,
    #[serde(default)]
    pub reason_code: Option<u8>,
    #[serde(default)]
    pub properties: Vec<packet::PropertySpec>,
    #[serde(default)]
    pub only: Option<Vec<Version>>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DropStep {
    #[serde(default = "default_client")]
    pub client: String,
    #[serde(default)]
    pub only: Option<Vec<Version>>,
}
