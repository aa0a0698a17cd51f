//! What the broker offers, from its CONNACK under each protocol version (5.0 properties,
//! §3.2.2.3), plus whether it accepts a zero-length client identifier.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use bytes::Bytes;
use mqttspec_codec::properties::PropertyValue;
use mqttspec_codec::{Connect, MqttString, Packet, Properties, Property, ReasonCode};

/// The enhanced authentication method scenarios can speak (the reference broker's).
pub const CHALLENGE_METHOD: &str = "MQTTSPEC-CHALLENGE";

use super::RunConfig;
use super::client::{Client, Incoming, Transcript};
use crate::scenario::{Capability, Version};

#[derive(Clone, Debug, Default)]
pub struct Capabilities {
    /// Per version: capabilities present.
    offered: BTreeMap<Version, BTreeSet<Capability>>,
    /// Per version: what CONNACK said, for the report.
    seen: BTreeMap<Version, BTreeMap<String, String>>,
}

impl Capabilities {
    pub fn has(&self, v: Version, c: Capability) -> bool {
        self.offered.get(&v).is_some_and(|set| set.contains(&c))
    }

    pub fn report(&self) -> BTreeMap<String, BTreeMap<String, String>> {
        self.seen
            .iter()
            .map(|(v, m)| (v.as_str().to_owned(), m.clone()))
            .collect()
    }
}

/// Connects once per version. Fails only if the broker cannot be reached at all (no TCP
/// connection); a broker that connects but does not answer CONNECT is probed as offering
/// everything, and the cases themselves report what it does.
pub async fn probe(config: &RunConfig) -> Result<Capabilities, String> {
    let mut caps = Capabilities::default();
    let transcript = Transcript::new();
    let timeout = Duration::from_secs(3);
    // TCP reachability first: the only failure that stops a run.
    Client::connect(
        "probe",
        &config.address,
        mqttspec_codec::ProtocolVersion::V3_1_1,
        &transcript,
        timeout,
    )
    .await?
    .close()
    .await;
    for &v in &config.versions {
        let connect = |client_id: &str| Connect {
            protocol: v.protocol(),
            clean_start: true,
            keep_alive: 30,
            properties: Properties::new(),
            client_id: MqttString::from(client_id),
            will: None,
            username: config.username.as_deref().map(MqttString::from),
            password: config
                .password
                .as_ref()
                .map(|p| Bytes::from(p.clone().into_bytes())),
        };
        let mut offered: BTreeSet<Capability> = Capability::ALL.into_iter().collect();
        offered.remove(&Capability::EmptyClientId);
        offered.remove(&Capability::ChallengeAuth);
        if v == Version::V3_1_1 {
            // 3.1.1 has no Shared Subscriptions, Subscription Identifiers or Topic Aliases.
            offered.remove(&Capability::SharedSubscriptions);
            offered.remove(&Capability::SubscriptionIdentifiers);
            offered.remove(&Capability::TopicAlias);
        }
        let mut seen = BTreeMap::new();
        let id = format!(
            "msprobe{}{}",
            std::process::id() % 100_000,
            v.protocol().level()
        );
        match exchange(config, v, connect(&id), &transcript, timeout).await {
            Err(e) => {
                seen.insert("connack".to_owned(), format!("none: {e}"));
            }
            Ok(connack) => {
                seen.insert(
                    "connack".to_owned(),
                    mqttspec_codec::render::packet(&Packet::ConnAck(connack.clone())),
                );
                if v == Version::V5 {
                    read_v5_capabilities(&connack.properties, &mut offered, &mut seen);
                }
                // Zero-length client identifier (MQTT-3.1.3-6: a server MAY allow it).
                if let Ok(c) = exchange(config, v, connect(""), &transcript, timeout).await
                    && c.reason_code.0 == 0
                {
                    offered.insert(Capability::EmptyClientId);
                }
                // The MQTTSPEC-CHALLENGE method: a CONNECT naming it gets AUTH 0x18.
                if v == Version::V5
                    && offers_challenge_auth(
                        config,
                        connect(&format!("{id}a")),
                        &transcript,
                        timeout,
                    )
                    .await
                {
                    offered.insert(Capability::ChallengeAuth);
                }
            }
        }
        seen.insert(
            "capabilities".into(),
            offered
                .iter()
                .map(|c| c.name())
                .collect::<Vec<_>>()
                .join(","),
        );
        caps.offered.insert(v, offered);
        caps.seen.insert(v, seen);
    }
    Ok(caps)
}

/// 5.0 CONNACK properties that say what the server lacks (§3.2.2.3).
fn read_v5_capabilities(
    p: &Properties,
    offered: &mut BTreeSet<Capability>,
    seen: &mut BTreeMap<String, String>,
) {
    let max_qos = p.maximum_qos().unwrap_or(2);
    if max_qos < 1 {
        offered.remove(&Capability::Qos1);
    }
    if max_qos < 2 {
        offered.remove(&Capability::Qos2);
    }
    if p.retain_available() == Some(0) {
        offered.remove(&Capability::Retain);
    }
    if p.wildcard_subscription_available() == Some(0) {
        offered.remove(&Capability::Wildcard);
    }
    if p.shared_subscription_available() == Some(0) {
        offered.remove(&Capability::SharedSubscriptions);
    }
    if p.subscription_identifier_available() == Some(0) {
        offered.remove(&Capability::SubscriptionIdentifiers);
    }
    if p.topic_alias_maximum().unwrap_or(0) == 0 {
        offered.remove(&Capability::TopicAlias);
    }
    for prop in p.iter() {
        let value = match prop.value() {
            PropertyValue::Byte(v) => v.to_string(),
            PropertyValue::TwoByteInteger(v) => v.to_string(),
            PropertyValue::FourByteInteger(v) | PropertyValue::VariableByteInteger(v) => {
                v.to_string()
            }
            PropertyValue::Utf8String(s) => s.to_string(),
            PropertyValue::BinaryData(b) => mqttspec_codec::render::hex(b),
            PropertyValue::Utf8StringPair(k, v) => format!("{k}={v}"),
        };
        seen.insert(prop.id().name().replace(' ', "_"), value);
    }
}

/// Does a 5.0 CONNECT with Authentication Method `MQTTSPEC-CHALLENGE` get AUTH 0x18
/// (Continue authentication) naming the method?
async fn offers_challenge_auth(
    config: &RunConfig,
    mut connect: Connect,
    transcript: &Transcript,
    timeout: Duration,
) -> bool {
    let Ok(mut client) = Client::connect(
        "probe",
        &config.address,
        Version::V5.protocol(),
        transcript,
        timeout,
    )
    .await
    else {
        return false;
    };
    connect.properties = Properties::new().with(Property::AuthenticationMethod(MqttString::from(
        CHALLENGE_METHOD,
    )));
    let Ok(bytes) = Packet::Connect(connect).to_bytes(Version::V5.protocol()) else {
        return false;
    };
    if client.send(&bytes).await.is_err() {
        return false;
    }
    let offered = matches!(
        client.next(timeout).await,
        Some(Incoming::Packet(Packet::Auth(a)))
            if a.reason_code == ReasonCode::CONTINUE_AUTHENTICATION
                && a.properties.authentication_method().as_deref() == Some(CHALLENGE_METHOD)
    );
    client.close().await;
    offered
}

async fn exchange(
    config: &RunConfig,
    v: Version,
    connect: Connect,
    transcript: &Transcript,
    timeout: Duration,
) -> Result<mqttspec_codec::ConnAck, String> {
    let mut client =
        Client::connect("probe", &config.address, v.protocol(), transcript, timeout).await?;
    let bytes = Packet::Connect(connect)
        .to_bytes(v.protocol())
        .map_err(|e| e.to_string())?;
    client.send(&bytes).await?;
    let result = match client.next(timeout).await {
        Some(Incoming::Packet(Packet::ConnAck(c))) => Ok(c),
        Some(other) => Err(format!("probe CONNECT under {v} got {other:?}")),
        None => Err(format!("no CONNACK within {timeout:?} under {v}")),
    };
    if let Ok(bytes) = Packet::Disconnect(Default::default()).to_bytes(v.protocol()) {
        let _ = client.send(&bytes).await;
    }
    client.close().await;
    result
}
