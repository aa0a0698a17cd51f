//! Packets as scenarios write them, and their translation to wire bytes through the codec
//! (including deliberate violations).

use bytes::Bytes;
use mqttspec_codec::malformed::{FieldRef, Malformed, Position, Tamper};
use mqttspec_codec::{
    Auth, ConnAck, Connect, Disconnect, MqttString, Packet, Properties, Property, ProtocolVersion,
    Publish, PublishAck, QoS, ReasonCode, RetainHandling, SubAck, Subscribe, Subscription,
    SubscriptionOptions, UnsubAck, Unsubscribe, Will,
};
use serde::Deserialize;

use super::{Bin, Var, Version, default_client};

/// How a step's strings and variables become values: `{prefix}` and `{client_id:NAME}` in
/// strings, `$name` variables.
pub trait Resolve {
    fn interpolate(&self, text: &str) -> String;
    fn var(&self, name: &str) -> Result<u64, String>;
    /// A captured binary value (e.g. Authentication Data).
    fn bytes_var(&self, name: &str) -> Result<Vec<u8>, String>;
}

fn num<T: TryFrom<u64> + Copy>(v: &Var<T>, r: &dyn Resolve) -> Result<T, String> {
    match v {
        Var::Lit(x) => Ok(*x),
        Var::Ref(name) => {
            let raw = r.var(name)?;
            T::try_from(raw).map_err(|_| format!("${name} = {raw} is out of range here"))
        }
    }
}

fn qos(q: u8) -> Result<QoS, String> {
    QoS::from_u8(q).ok_or_else(|| format!("QoS {q}: use `tamper` to send QoS 3"))
}

fn string(r: &dyn Resolve, s: &str) -> MqttString {
    MqttString::from(r.interpolate(s))
}

/// `send:` — one packet kind key, or `hex`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendStep {
    #[serde(default = "default_client")]
    pub client: String,
    #[serde(default)]
    pub connect: Option<ConnectSpec>,
    #[serde(default)]
    pub connack: Option<ConnAckSpec>,
    #[serde(default)]
    pub publish: Option<PublishSpec>,
    #[serde(default)]
    pub puback: Option<AckSpec>,
    #[serde(default)]
    pub pubrec: Option<AckSpec>,
    #[serde(default)]
    pub pubrel: Option<AckSpec>,
    #[serde(default)]
    pub pubcomp: Option<AckSpec>,
    #[serde(default)]
    pub subscribe: Option<SubscribeSpec>,
    #[serde(default)]
    pub suback: Option<SubAckSpec>,
    #[serde(default)]
    pub unsubscribe: Option<UnsubscribeSpec>,
    #[serde(default)]
    pub unsuback: Option<SubAckSpec>,
    #[serde(default)]
    pub pingreq: Option<Empty>,
    #[serde(default)]
    pub pingresp: Option<Empty>,
    #[serde(default)]
    pub disconnect: Option<ReasonSpec>,
    #[serde(default)]
    pub auth: Option<ReasonSpec>,
    /// Raw bytes instead of a packet.
    #[serde(default)]
    pub hex: Option<String>,
    /// Deliberate violations applied to the packet's bytes, in order.
    #[serde(default)]
    pub tamper: Vec<TamperSpec>,
    /// Send the bytes this many times (at most 100,000), e.g. to pile up packet ids.
    #[serde(default)]
    pub repeat: Option<u32>,
    #[serde(default)]
    pub only: Option<Vec<Version>>,
}

impl SendStep {
    /// How many packet forms the step gives (exactly one is valid).
    pub fn forms(&self) -> usize {
        [
            self.connect.is_some(),
            self.connack.is_some(),
            self.publish.is_some(),
            self.puback.is_some(),
            self.pubrec.is_some(),
            self.pubrel.is_some(),
            self.pubcomp.is_some(),
            self.subscribe.is_some(),
            self.suback.is_some(),
            self.unsubscribe.is_some(),
            self.unsuback.is_some(),
            self.pingreq.is_some(),
            self.pingresp.is_some(),
            self.disconnect.is_some(),
            self.auth.is_some(),
            self.hex.is_some(),
        ]
        .into_iter()
        .filter(|x| *x)
        .count()
    }

    /// The structured packet, if the step gives one.
    pub fn packet(&self, r: &dyn Resolve, v: ProtocolVersion) -> Result<Option<Packet>, String> {
        Ok(Some(if let Some(c) = &self.connect {
            Packet::Connect(c.build(r, v, "")?)
        } else if let Some(c) = &self.connack {
            Packet::ConnAck(ConnAck {
                session_present: c.session_present,
                reason_code: ReasonCode(c.reason_code),
                properties: properties(&c.properties, r)?,
            })
        } else if let Some(p) = &self.publish {
            Packet::Publish(p.build(r)?)
        } else if let Some(a) = &self.puback {
            Packet::PubAck(a.build(r)?)
        } else if let Some(a) = &self.pubrec {
            Packet::PubRec(a.build(r)?)
        } else if let Some(a) = &self.pubrel {
            Packet::PubRel(a.build(r)?)
        } else if let Some(a) = &self.pubcomp {
            Packet::PubComp(a.build(r)?)
        } else if let Some(s) = &self.subscribe {
            Packet::Subscribe(s.build(r)?)
        } else if let Some(s) = &self.suback {
            Packet::SubAck(SubAck {
                packet_id: num(&s.packet_id, r)?,
                properties: properties(&s.properties, r)?,
                reason_codes: s.reason_codes.iter().map(|c| ReasonCode(*c)).collect(),
            })
        } else if let Some(u) = &self.unsubscribe {
            Packet::Unsubscribe(Unsubscribe {
                packet_id: num(&u.packet_id, r)?,
                properties: properties(&u.properties, r)?,
                filters: u.filters.iter().map(|f| string(r, f)).collect(),
            })
        } else if let Some(s) = &self.unsuback {
            Packet::UnsubAck(UnsubAck {
                packet_id: num(&s.packet_id, r)?,
                properties: properties(&s.properties, r)?,
                reason_codes: s.reason_codes.iter().map(|c| ReasonCode(*c)).collect(),
            })
        } else if self.pingreq.is_some() {
            Packet::PingReq
        } else if self.pingresp.is_some() {
            Packet::PingResp
        } else if let Some(d) = &self.disconnect {
            Packet::Disconnect(Disconnect {
                reason_code: ReasonCode(d.reason_code),
                properties: properties(&d.properties, r)?,
            })
        } else if let Some(a) = &self.auth {
            Packet::Auth(Auth {
                reason_code: ReasonCode(a.reason_code),
                properties: properties(&a.properties, r)?,
            })
        } else {
            return Ok(None);
        }))
    }

    /// The bytes to send.
    pub fn bytes(&self, r: &dyn Resolve, v: ProtocolVersion) -> Result<Bytes, String> {
        match self.packet(r, v)? {
            Some(packet) => encode(&packet, v, &self.tamper, r),
            None => {
                let hex = self.hex.as_deref().unwrap_or_default();
                let raw = mqttspec_codec::render::parse_hex(&r.interpolate(hex))?;
                let mut m = Malformed::raw(raw);
                for t in &self.tamper {
                    m.apply(&t.to_tamper(r)?).map_err(|e| e.to_string())?;
                }
                Ok(m.into_bytes())
            }
        }
    }
}

/// Encodes `packet` for `v`, then applies the tampering.
pub fn encode(
    packet: &Packet,
    v: ProtocolVersion,
    tamper: &[TamperSpec],
    r: &dyn Resolve,
) -> Result<Bytes, String> {
    if tamper.is_empty() {
        return packet.to_bytes(v).map_err(|e| e.to_string());
    }
    let mut m = Malformed::from_packet(packet, v).map_err(|e| e.to_string())?;
    for t in tamper {
        m.apply(&t.to_tamper(r)?).map_err(|e| e.to_string())?;
    }
    Ok(m.into_bytes())
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectSpec {
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
    pub will: Option<WillSpec>,
    #[serde(default)]
    pub properties: Vec<PropertySpec>,
    #[serde(default)]
    pub protocol: Option<Version>,
}

impl ConnectSpec {
    /// The CONNECT; `default_client_id` when the spec names none.
    pub fn build(
        &self,
        r: &dyn Resolve,
        v: ProtocolVersion,
        default_client_id: &str,
    ) -> Result<Connect, String> {
        Ok(Connect {
            protocol: self.protocol.map_or(v, Version::protocol),
            clean_start: self.clean_start.unwrap_or(true),
            keep_alive: self.keep_alive.unwrap_or(60),
            properties: properties(&self.properties, r)?,
            client_id: match &self.client_id {
                Some(id) => string(r, id),
                None => MqttString::from(default_client_id),
            },
            will: self.will.as_ref().map(|w| w.build(r)).transpose()?,
            username: self.username.as_ref().map(|u| string(r, u)),
            password: self.password.as_ref().map(|p| Bytes::from(p.0.clone())),
        })
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WillSpec {
    pub topic: String,
    #[serde(default)]
    pub payload: Bin,
    #[serde(default)]
    pub qos: u8,
    #[serde(default)]
    pub retain: bool,
    #[serde(default)]
    pub properties: Vec<PropertySpec>,
}

impl WillSpec {
    fn build(&self, r: &dyn Resolve) -> Result<Will, String> {
        Ok(Will {
            topic: string(r, &self.topic),
            payload: Bytes::from(self.payload.0.clone()),
            qos: qos(self.qos)?,
            retain: self.retain,
            properties: properties(&self.properties, r)?,
        })
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnAckSpec {
    #[serde(default)]
    pub session_present: bool,
    #[serde(default)]
    pub reason_code: u8,
    #[serde(default)]
    pub properties: Vec<PropertySpec>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishSpec {
    pub topic: String,
    #[serde(default)]
    pub qos: u8,
    #[serde(default)]
    pub retain: bool,
    #[serde(default)]
    pub dup: bool,
    /// Required at QoS 1 and 2.
    #[serde(default)]
    pub packet_id: Option<Var<u16>>,
    #[serde(default)]
    pub payload: Option<Bin>,
    /// A payload of this many bytes (for size limits), instead of `payload`.
    #[serde(default)]
    pub payload_size: Option<usize>,
    #[serde(default)]
    pub properties: Vec<PropertySpec>,
}

impl PublishSpec {
    fn build(&self, r: &dyn Resolve) -> Result<Publish, String> {
        let qos = qos(self.qos)?;
        let packet_id = match (&self.packet_id, qos) {
            (Some(id), _) => num(id, r)?,
            (None, QoS::AtMostOnce) => 0,
            (None, _) => return Err("a QoS 1 or 2 PUBLISH needs a packet_id".into()),
        };
        let payload = match (&self.payload, self.payload_size) {
            (_, Some(n)) if n > 16 << 20 => return Err("payload_size is limited to 16 MiB".into()),
            (_, Some(n)) => Bytes::from(vec![b'x'; n]),
            (Some(b), None) => Bytes::from(r.interpolate_bytes(&b.0)),
            (None, None) => Bytes::new(),
        };
        Ok(Publish {
            dup: self.dup,
            qos,
            retain: self.retain,
            topic: string(r, &self.topic),
            packet_id,
            properties: properties(&self.properties, r)?,
            payload,
        })
    }
}

trait InterpolateBytes {
    fn interpolate_bytes(&self, data: &[u8]) -> Vec<u8>;
}

impl<R: Resolve + ?Sized> InterpolateBytes for R {
    fn interpolate_bytes(&self, data: &[u8]) -> Vec<u8> {
        match std::str::from_utf8(data) {
            Ok(text) => self.interpolate(text).into_bytes(),
            Err(_) => data.to_vec(),
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AckSpec {
    pub packet_id: Var<u16>,
    #[serde(default)]
    pub reason_code: u8,
    #[serde(default)]
    pub properties: Vec<PropertySpec>,
}

impl AckSpec {
    fn build(&self, r: &dyn Resolve) -> Result<PublishAck, String> {
        Ok(PublishAck {
            packet_id: num(&self.packet_id, r)?,
            reason_code: ReasonCode(self.reason_code),
            properties: properties(&self.properties, r)?,
        })
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionSpec {
    pub filter: String,
    #[serde(default)]
    pub qos: u8,
    #[serde(default)]
    pub no_local: bool,
    #[serde(default)]
    pub retain_as_published: bool,
    #[serde(default)]
    pub retain_handling: u8,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscribeSpec {
    #[serde(default = "one")]
    pub packet_id: Var<u16>,
    pub subscriptions: Vec<SubscriptionSpec>,
    #[serde(default)]
    pub properties: Vec<PropertySpec>,
}

fn one() -> Var<u16> {
    Var::Lit(1)
}

impl SubscribeSpec {
    fn build(&self, r: &dyn Resolve) -> Result<Subscribe, String> {
        let subscriptions = self
            .subscriptions
            .iter()
            .map(|s| {
                Ok(Subscription {
                    filter: string(r, &s.filter),
                    options: SubscriptionOptions {
                        qos: qos(s.qos)?,
                        no_local: s.no_local,
                        retain_as_published: s.retain_as_published,
                        retain_handling: RetainHandling::from_u8(s.retain_handling)
                            .ok_or("retain_handling 3: use `tamper` to send it")?,
                    },
                })
            })
            .collect::<Result<_, String>>()?;
        Ok(Subscribe {
            packet_id: num(&self.packet_id, r)?,
            properties: properties(&self.properties, r)?,
            subscriptions,
        })
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnsubscribeSpec {
    #[serde(default = "one")]
    pub packet_id: Var<u16>,
    pub filters: Vec<String>,
    #[serde(default)]
    pub properties: Vec<PropertySpec>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubAckSpec {
    #[serde(default = "one")]
    pub packet_id: Var<u16>,
    #[serde(default)]
    pub reason_codes: Vec<u8>,
    #[serde(default)]
    pub properties: Vec<PropertySpec>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonSpec {
    #[serde(default)]
    pub reason_code: u8,
    #[serde(default)]
    pub properties: Vec<PropertySpec>,
}

/// One property, written `{name: value}`; a list of them keeps order and duplicates.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum PropertySpec {
    PayloadFormatIndicator(u8),
    MessageExpiryInterval(u32),
    ContentType(String),
    ResponseTopic(String),
    CorrelationData(Bin),
    SubscriptionIdentifier(u32),
    SessionExpiryInterval(u32),
    AssignedClientIdentifier(String),
    ServerKeepAlive(u16),
    AuthenticationMethod(String),
    AuthenticationData(Bin),
    RequestProblemInformation(u8),
    WillDelayInterval(u32),
    RequestResponseInformation(u8),
    ResponseInformation(String),
    ServerReference(String),
    ReasonString(String),
    ReceiveMaximum(u16),
    TopicAliasMaximum(u16),
    TopicAlias(u16),
    MaximumQos(u8),
    RetainAvailable(u8),
    UserProperty(String, String),
    MaximumPacketSize(u32),
    WildcardSubscriptionAvailable(u8),
    SubscriptionIdentifierAvailable(u8),
    SharedSubscriptionAvailable(u8),
    /// Authentication Data answering an `MQTTSPEC-CHALLENGE` nonce captured earlier
    /// (`challenge_answer: $nonce`): the nonce's bytes in reverse order.
    ChallengeAnswer(String),
}

impl PropertySpec {
    fn build(&self, r: &dyn Resolve) -> Result<Property, String> {
        use PropertySpec as S;
        let s = |text: &String| string(r, text);
        let b = |bin: &Bin| Bytes::from(bin.0.clone());
        Ok(match self {
            S::ChallengeAnswer(var) => {
                let name = var.strip_prefix('$').ok_or_else(|| {
                    format!("challenge_answer: give a captured `$name`, not {var:?}")
                })?;
                let mut nonce = r.bytes_var(name)?;
                nonce.reverse();
                Property::AuthenticationData(Bytes::from(nonce))
            }
            S::PayloadFormatIndicator(v) => Property::PayloadFormatIndicator(*v),
            S::MessageExpiryInterval(v) => Property::MessageExpiryInterval(*v),
            S::ContentType(v) => Property::ContentType(s(v)),
            S::ResponseTopic(v) => Property::ResponseTopic(s(v)),
            S::CorrelationData(v) => Property::CorrelationData(b(v)),
            S::SubscriptionIdentifier(v) => Property::SubscriptionIdentifier(*v),
            S::SessionExpiryInterval(v) => Property::SessionExpiryInterval(*v),
            S::AssignedClientIdentifier(v) => Property::AssignedClientIdentifier(s(v)),
            S::ServerKeepAlive(v) => Property::ServerKeepAlive(*v),
            S::AuthenticationMethod(v) => Property::AuthenticationMethod(s(v)),
            S::AuthenticationData(v) => Property::AuthenticationData(b(v)),
            S::RequestProblemInformation(v) => Property::RequestProblemInformation(*v),
            S::WillDelayInterval(v) => Property::WillDelayInterval(*v),
            S::RequestResponseInformation(v) => Property::RequestResponseInformation(*v),
            S::ResponseInformation(v) => Property::ResponseInformation(s(v)),
            S::ServerReference(v) => Property::ServerReference(s(v)),
            S::ReasonString(v) => Property::ReasonString(s(v)),
            S::ReceiveMaximum(v) => Property::ReceiveMaximum(*v),
            S::TopicAliasMaximum(v) => Property::TopicAliasMaximum(*v),
            S::TopicAlias(v) => Property::TopicAlias(*v),
            S::MaximumQos(v) => Property::MaximumQoS(*v),
            S::RetainAvailable(v) => Property::RetainAvailable(*v),
            S::UserProperty(k, v) => Property::UserProperty(s(k), s(v)),
            S::MaximumPacketSize(v) => Property::MaximumPacketSize(*v),
            S::WildcardSubscriptionAvailable(v) => Property::WildcardSubscriptionAvailable(*v),
            S::SubscriptionIdentifierAvailable(v) => Property::SubscriptionIdentifierAvailable(*v),
            S::SharedSubscriptionAvailable(v) => Property::SharedSubscriptionAvailable(*v),
        })
    }
}

pub fn properties(specs: &[PropertySpec], r: &dyn Resolve) -> Result<Properties, String> {
    specs.iter().map(|p| p.build(r)).collect()
}

/// A deliberate violation (see `mqttspec_codec::malformed`). Fields are named as decode
/// errors name them: `topic name`, `packet identifier`, `properties`, `user property value`,
/// `topic filter[1]`, …
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum TamperSpec {
    /// Low nibble of the first byte.
    FixedHeaderFlags(u8),
    /// High nibble of the first byte.
    PacketType(u8),
    /// Declared Remaining Length, body unchanged.
    RemainingLength(u32),
    /// Raw Remaining Length bytes, in hex.
    RemainingLengthHex(String),
    NonMinimal {
        field: String,
        width: usize,
    },
    /// Replace a field's content (hex, or text), fixing enclosing lengths.
    Replace {
        field: String,
        #[serde(default)]
        hex: Option<String>,
        #[serde(default)]
        text: Option<String>,
    },
    Insert {
        field: String,
        #[serde(default = "at_end")]
        at: String,
        hex: String,
    },
    FieldLength {
        field: String,
        length: u16,
    },
    PropertyLength {
        #[serde(default)]
        nth: usize,
        length: u32,
    },
    Truncate {
        count: usize,
        #[serde(default = "yes")]
        fix_length: bool,
    },
    Append {
        hex: String,
        #[serde(default = "yes")]
        fix_length: bool,
    },
}

fn yes() -> bool {
    true
}

fn at_end() -> String {
    "end".to_owned()
}

impl TamperSpec {
    pub fn to_tamper(&self, r: &dyn Resolve) -> Result<Tamper, String> {
        let hex = |h: &str| mqttspec_codec::render::parse_hex(h);
        let field = |f: &str| f.parse::<FieldRef>().map_err(|e| e.to_string());
        Ok(match self {
            TamperSpec::FixedHeaderFlags(f) => Tamper::FixedHeaderFlags(*f),
            TamperSpec::PacketType(t) => Tamper::PacketType(*t),
            TamperSpec::RemainingLength(l) => Tamper::RemainingLength(*l),
            TamperSpec::RemainingLengthHex(h) => Tamper::RemainingLengthBytes(hex(h)?),
            TamperSpec::NonMinimal { field: f, width } => Tamper::NonMinimal {
                field: field(f)?,
                width: *width,
            },
            TamperSpec::Replace {
                field: f,
                hex: h,
                text,
            } => {
                let bytes = match (h, text) {
                    (Some(h), None) => hex(h)?,
                    (None, Some(t)) => r.interpolate(t).into_bytes(),
                    _ => return Err("replace takes exactly one of `hex` and `text`".into()),
                };
                Tamper::Replace {
                    field: field(f)?,
                    bytes,
                }
            }
            TamperSpec::Insert {
                field: f,
                at,
                hex: h,
            } => {
                let position = match at.as_str() {
                    "start" => Position::Start,
                    "end" => Position::End,
                    other => return Err(format!("insert at `{other}`: use start or end")),
                };
                Tamper::Insert {
                    field: field(f)?,
                    position,
                    bytes: hex(h)?,
                }
            }
            TamperSpec::FieldLength { field: f, length } => Tamper::FieldLength {
                field: field(f)?,
                length: *length,
            },
            TamperSpec::PropertyLength { nth, length } => Tamper::PropertyLength {
                nth: *nth,
                length: *length,
            },
            TamperSpec::Truncate { count, fix_length } => Tamper::Truncate {
                count: *count,
                fix_length: *fix_length,
            },
            TamperSpec::Append { hex: h, fix_length } => Tamper::Append {
                bytes: hex(h)?,
                fix_length: *fix_length,
            },
        })
    }
}
