//! What can be wrong with bytes on the wire, which rule it breaks, and how a receiver reacts.
//!
//! Two layers, as 5.0 §4.13 draws them: [`ErrorKind`] says what is wrong with the bytes;
//! [`Reaction`] says what the receiver does about it (Malformed Packet, Protocol Error, …).
//! [`ErrorKind::statement`] is the one table from an error to the normative statement it
//! breaks, per protocol version.

use std::fmt;

use crate::packet::PacketType;
use crate::properties::PropertyId;
use crate::reason::ReasonCode;
use crate::spec::StatementRef;
use crate::topic::TopicError;
use crate::types::ProtocolVersion;

/// What is wrong with a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    // --- Fixed header (§2.1 / §2.2) ---
    /// The buffer holds less than the fixed header declares (whole-packet decoding only;
    /// the streaming decoder waits for more bytes instead).
    Incomplete,
    /// The Remaining Length continues into a fifth byte.
    RemainingLengthTooLong,
    /// A Variable Byte Integer inside the packet continues into a fifth byte.
    VarIntTooLong {
        field: &'static str,
    },
    /// A Variable Byte Integer uses more bytes than needed (5.0 only).
    VarIntNotMinimal {
        field: &'static str,
    },
    /// The packet is larger than the receiver's maximum packet size.
    PacketTooLarge {
        size: u64,
        max: u32,
    },
    /// Control packet type 0, or 15 before MQTT 5.0.
    ReservedPacketType(u8),
    /// Reserved fixed-header flag bits have the wrong value.
    InvalidFixedHeaderFlags {
        packet_type: PacketType,
        flags: u8,
    },
    /// PUBLISH with both QoS bits set.
    QoS3,
    /// PUBLISH with DUP set at QoS 0.
    DupWithQoS0,

    // --- Data representation (§1.5) ---
    /// A field runs past the end of the packet (or of its property block).
    Truncated {
        field: &'static str,
    },
    /// Bytes left over after the last field of the packet.
    TrailingBytes {
        count: usize,
    },
    /// A UTF-8 string field is not well-formed UTF-8 (includes surrogates, overlong forms).
    InvalidUtf8 {
        field: &'static str,
    },
    /// A UTF-8 string field contains U+0000.
    NullCharacter {
        field: &'static str,
    },

    // --- CONNECT / CONNACK (§3.1, §3.2) ---
    InvalidProtocolName,
    UnsupportedProtocolLevel(u8),
    ConnectReservedFlag,
    WillQoSWithoutWill,
    WillRetainWithoutWill,
    WillQoS3,
    PasswordWithoutUsername,
    ConnAckReservedFlags(u8),
    SessionPresentWithError,

    // --- Packet identifiers (§2.3.1 / §2.2.1) ---
    PacketIdZero,

    // --- Topics (§4.7, §4.8.2) ---
    TopicName(TopicError),
    TopicFilter(TopicError),
    /// 5.0: zero-length Topic Name without a Topic Alias property.
    EmptyTopicWithoutAlias,
    /// 5.0: Topic Alias property of 0 (MQTT-3.3.2-8).
    TopicAliasZero,
    /// 5.0: No Local on a shared subscription (MQTT-3.8.3-4).
    NoLocalOnSharedSubscription,

    // --- SUBSCRIBE / UNSUBSCRIBE (§3.8, §3.10) ---
    SubscriptionOptionsReservedBits(u8),
    SubscriptionQoS3,
    RetainHandling3,
    EmptySubscribe,
    EmptyUnsubscribe,

    // --- Properties (5.0 §2.2.2) ---
    UnknownProperty(u8),
    PropertyNotAllowed {
        property: PropertyId,
        packet_type: PacketType,
    },
    /// Will properties carrying an identifier only packets may carry.
    PropertyNotAllowedInWill(PropertyId),
    DuplicateProperty(PropertyId),
    InvalidPropertyValue {
        property: PropertyId,
        value: u32,
    },
    SubscriptionIdentifierZero,
    /// 5.0: Response Topic that is not a valid topic name (MQTT-3.3.2-14).
    InvalidResponseTopic,

    // --- Reason codes ---
    InvalidReasonCode {
        packet_type: PacketType,
        code: u8,
    },
    /// 3.1/3.1.1 CONNACK return code 6..=255 (reserved).
    ReservedConnectReturnCode(u8),
}

/// What the receiver of a bad packet does (5.0 §4.13). Under 3.1/3.1.1 every reaction is
/// "close the Network Connection"; 5.0 lets a DISCONNECT (or CONNACK) with the reason code
/// go first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reaction {
    /// The packet could not be parsed according to the specification: reason code 0x81.
    MalformedPacket,
    /// Parsed, but contrary to the specification: reason code 0x82.
    ProtocolError,
    /// Larger than the receiver's maximum packet size: reason code 0x95.
    PacketTooLarge,
    /// CONNECT for a protocol the server does not speak: CONNACK 0x84 (5.0) or 0x01 (3.1.1).
    UnsupportedProtocolVersion,
}

impl Reaction {
    /// The 5.0 reason code of the DISCONNECT (or CONNACK) that announces it.
    pub fn reason_code(self) -> ReasonCode {
        match self {
            Reaction::MalformedPacket => ReasonCode::MALFORMED_PACKET,
            Reaction::ProtocolError => ReasonCode::PROTOCOL_ERROR,
            Reaction::PacketTooLarge => ReasonCode::PACKET_TOO_LARGE,
            Reaction::UnsupportedProtocolVersion => ReasonCode::UNSUPPORTED_PROTOCOL_VERSION,
        }
    }
}

impl ErrorKind {
    /// Malformed Packet or Protocol Error, as 5.0 classifies each rule.
    pub fn reaction(self) -> Reaction {
        use ErrorKind::*;
        match self {
            PacketTooLarge { .. } => Reaction::PacketTooLarge,
            UnsupportedProtocolLevel(_) | InvalidProtocolName => {
                Reaction::UnsupportedProtocolVersion
            }
            // "It is a Protocol Error to include … more than once / to have a value other
            // than …", and rules about what a packet means rather than how it is written.
            DuplicateProperty(_)
            | InvalidPropertyValue { .. }
            | SubscriptionIdentifierZero
            | InvalidResponseTopic
            | TopicAliasZero
            | EmptyTopicWithoutAlias
            | NoLocalOnSharedSubscription
            | RetainHandling3
            | SubscriptionQoS3
            | EmptySubscribe
            | EmptyUnsubscribe
            | PacketIdZero
            | InvalidReasonCode { .. }
            | SessionPresentWithError => Reaction::ProtocolError,
            _ => Reaction::MalformedPacket,
        }
    }

    /// The normative statement this error breaks under `version`, where one is tagged.
    pub fn statement(
        self,
        version: ProtocolVersion,
        packet_type: Option<PacketType>,
    ) -> Option<StatementRef> {
        use ErrorKind::*;
        use PacketType as T;
        let v5 = version.is_v5();
        let id = |v3: Option<&'static str>, v5id: Option<&'static str>| {
            if v5 {
                v5id.map(StatementRef::v5)
            } else {
                v3.map(StatementRef::v3)
            }
        };
        match self {
            VarIntNotMinimal { .. } => id(None, Some("MQTT-1.5.5-1")),
            InvalidFixedHeaderFlags { packet_type, .. } => match packet_type {
                T::PubRel => id(Some("MQTT-3.6.1-1"), Some("MQTT-3.6.1-1")),
                T::Subscribe => id(Some("MQTT-3.8.1-1"), Some("MQTT-3.8.1-1")),
                T::Unsubscribe => id(Some("MQTT-3.10.1-1"), Some("MQTT-3.10.1-1")),
                T::Disconnect => id(Some("MQTT-3.14.1-1"), Some("MQTT-3.14.1-1")),
                T::Auth => id(None, Some("MQTT-3.15.1-1")),
                _ => id(Some("MQTT-2.2.2-2"), Some("MQTT-2.1.3-1")),
            },
            QoS3 => id(Some("MQTT-3.3.1-4"), Some("MQTT-3.3.1-4")),
            DupWithQoS0 => id(Some("MQTT-3.3.1-2"), Some("MQTT-3.3.1-2")),
            InvalidUtf8 { field } | NullCharacter { field } => {
                let nul = matches!(self, NullCharacter { .. });
                match field {
                    // Fields whose own statement repeats the string rule.
                    "client identifier" => id(Some("MQTT-3.1.3-4"), Some("MQTT-3.1.3-4")),
                    "will topic" => id(Some("MQTT-3.1.3-10"), Some("MQTT-3.1.3-11")),
                    "user name" => id(Some("MQTT-3.1.3-11"), Some("MQTT-3.1.3-12")),
                    "topic name" if !nul => id(Some("MQTT-3.3.2-1"), Some("MQTT-3.3.2-1")),
                    "topic filter" if !nul => match packet_type {
                        Some(T::Unsubscribe) => id(Some("MQTT-3.10.3-1"), Some("MQTT-3.10.3-1")),
                        _ => id(Some("MQTT-3.8.3-1"), Some("MQTT-3.8.3-1")),
                    },
                    "response topic" if !nul => id(None, Some("MQTT-3.3.2-13")),
                    "content type" if !nul => id(None, Some("MQTT-3.3.2-19")),
                    "user property name" | "user property value" => id(None, Some("MQTT-1.5.7-1")),
                    _ if nul => id(Some("MQTT-1.5.3-2"), Some("MQTT-1.5.4-2")),
                    _ => id(Some("MQTT-1.5.3-1"), Some("MQTT-1.5.4-1")),
                }
            }
            // A 5.0 packet whose Property Length is missing: "If there are no properties,
            // this MUST be indicated by including a Property Length of zero".
            Truncated {
                field: "property length",
            } => id(None, Some("MQTT-2.2.2-1")),
            InvalidProtocolName => id(Some("MQTT-3.1.2-1"), Some("MQTT-3.1.2-1")),
            UnsupportedProtocolLevel(_) => id(Some("MQTT-3.1.2-2"), Some("MQTT-3.1.2-2")),
            ConnectReservedFlag => id(Some("MQTT-3.1.2-3"), Some("MQTT-3.1.2-3")),
            WillQoSWithoutWill => id(Some("MQTT-3.1.2-13"), Some("MQTT-3.1.2-11")),
            WillRetainWithoutWill => id(Some("MQTT-3.1.2-15"), Some("MQTT-3.1.2-13")),
            WillQoS3 => id(Some("MQTT-3.1.2-14"), Some("MQTT-3.1.2-12")),
            PasswordWithoutUsername => id(Some("MQTT-3.1.2-22"), None),
            ConnAckReservedFlags(_) => id(None, Some("MQTT-3.2.2-1")),
            SessionPresentWithError => id(Some("MQTT-3.2.2-4"), Some("MQTT-3.2.2-6")),
            PacketIdZero => match packet_type {
                Some(T::PubAck | T::PubRec | T::PubRel | T::PubComp) => {
                    id(Some("MQTT-2.3.1-6"), Some("MQTT-2.2.1-5"))
                }
                Some(T::SubAck | T::UnsubAck) => id(Some("MQTT-2.3.1-7"), Some("MQTT-2.2.1-6")),
                _ => id(Some("MQTT-2.3.1-1"), Some("MQTT-2.2.1-3")),
            },
            TopicName(TopicError::WildcardInName) => id(Some("MQTT-3.3.2-2"), Some("MQTT-3.3.2-2")),
            TopicName(e) | TopicFilter(e) => e.statement(version).map(|s| {
                if v5 {
                    StatementRef::v5(s)
                } else {
                    StatementRef::v3(s)
                }
            }),
            TopicAliasZero => id(None, Some("MQTT-3.3.2-8")),
            InvalidResponseTopic => id(None, Some("MQTT-3.3.2-14")),
            NoLocalOnSharedSubscription => id(None, Some("MQTT-3.8.3-4")),
            SubscriptionOptionsReservedBits(_) => id(Some("MQTT-3.8.3-4"), Some("MQTT-3.8.3-5")),
            SubscriptionQoS3 => id(Some("MQTT-3.8.3-4"), None),
            EmptySubscribe => id(Some("MQTT-3.8.3-3"), Some("MQTT-3.8.3-2")),
            EmptyUnsubscribe => id(Some("MQTT-3.10.3-2"), Some("MQTT-3.10.3-2")),
            InvalidReasonCode { packet_type, .. } => match packet_type {
                T::ConnAck => id(None, Some("MQTT-3.2.2-8")),
                T::PubAck => id(None, Some("MQTT-3.4.2-1")),
                T::PubRec => id(None, Some("MQTT-3.5.2-1")),
                T::PubRel => id(None, Some("MQTT-3.6.2-1")),
                T::PubComp => id(None, Some("MQTT-3.7.2-1")),
                // 3.1 has no 0x80 and no tagged statements; 3.1.1's list would not apply.
                T::SubAck if version == ProtocolVersion::V3_1 => None,
                T::SubAck => id(Some("MQTT-3.9.3-2"), Some("MQTT-3.9.3-2")),
                T::UnsubAck => id(None, Some("MQTT-3.11.3-2")),
                T::Disconnect => id(None, Some("MQTT-3.14.2-1")),
                T::Auth => id(None, Some("MQTT-3.15.2-1")),
                _ => None,
            },
            PropertyNotAllowedInWill(_) | PropertyNotAllowed { .. } => None,
            Incomplete
            | RemainingLengthTooLong
            | VarIntTooLong { .. }
            | PacketTooLarge { .. }
            | ReservedPacketType(_)
            | Truncated { .. }
            | TrailingBytes { .. }
            | EmptyTopicWithoutAlias
            | RetainHandling3
            | UnknownProperty(_)
            | DuplicateProperty(_)
            | InvalidPropertyValue { .. }
            | SubscriptionIdentifierZero
            | ReservedConnectReturnCode(_) => None,
        }
    }

    /// The section of the specification that defines the rule (for errors with no tagged
    /// statement, this is the citation).
    pub fn section(self, version: ProtocolVersion) -> &'static str {
        use ErrorKind::*;
        let v5 = version.is_v5();
        match self {
            Incomplete | RemainingLengthTooLong | PacketTooLarge { .. } => {
                if v5 {
                    "2.1.4"
                } else {
                    "2.2.3"
                }
            }
            VarIntNotMinimal { .. } | VarIntTooLong { .. } => "1.5.5",
            ReservedPacketType(_) => {
                if v5 {
                    "2.1.2"
                } else {
                    "2.2.1"
                }
            }
            InvalidFixedHeaderFlags { .. } => {
                if v5 {
                    "2.1.3"
                } else {
                    "2.2.2"
                }
            }
            QoS3 | DupWithQoS0 => "3.3.1",
            Truncated { .. } | TrailingBytes { .. } => {
                if v5 {
                    "4.13"
                } else {
                    "4.8"
                }
            }
            InvalidUtf8 { .. } | NullCharacter { .. } => {
                if v5 {
                    "1.5.4"
                } else {
                    "1.5.3"
                }
            }
            InvalidProtocolName
            | UnsupportedProtocolLevel(_)
            | ConnectReservedFlag
            | WillQoSWithoutWill
            | WillRetainWithoutWill
            | WillQoS3
            | PasswordWithoutUsername => "3.1.2",
            ConnAckReservedFlags(_) | SessionPresentWithError | ReservedConnectReturnCode(_) => {
                "3.2.2"
            }
            PacketIdZero => {
                if v5 {
                    "2.2.1"
                } else {
                    "2.3.1"
                }
            }
            TopicName(_) | TopicFilter(_) => "4.7",
            EmptyTopicWithoutAlias | TopicAliasZero => "3.3.2.3.4",
            NoLocalOnSharedSubscription
            | SubscriptionOptionsReservedBits(_)
            | SubscriptionQoS3
            | RetainHandling3 => "3.8.3.1",
            EmptySubscribe => "3.8.3",
            EmptyUnsubscribe => "3.10.3",
            UnknownProperty(_)
            | PropertyNotAllowed { .. }
            | PropertyNotAllowedInWill(_)
            | DuplicateProperty(_)
            | InvalidPropertyValue { .. } => "2.2.2.2",
            SubscriptionIdentifierZero => "3.8.2.1.2",
            InvalidResponseTopic => "3.3.2.3.5",
            InvalidReasonCode { .. } => "2.4",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ErrorKind::*;
        match *self {
            Incomplete => f.write_str("the input ends before the packet does"),
            RemainingLengthTooLong => f.write_str("the Remaining Length is longer than 4 bytes"),
            VarIntTooLong { field } => write!(f, "the {field} is longer than 4 bytes"),
            VarIntNotMinimal { field } => {
                write!(
                    f,
                    "the {field} is not encoded in the minimum number of bytes"
                )
            }
            PacketTooLarge { size, max } => {
                write!(
                    f,
                    "the packet is {size} bytes, over the maximum packet size of {max}"
                )
            }
            ReservedPacketType(t) => write!(f, "control packet type {t} is reserved"),
            InvalidFixedHeaderFlags { packet_type, flags } => write!(
                f,
                "{packet_type} fixed header flags are {flags:#06b}, must be {:#06b}",
                packet_type.required_flags().unwrap_or(0)
            ),
            QoS3 => f.write_str("PUBLISH has both QoS bits set (QoS 3)"),
            DupWithQoS0 => f.write_str("PUBLISH has the DUP flag set at QoS 0"),
            Truncated { field } => write!(f, "the {field} runs past the end of the packet"),
            TrailingBytes { count } => write!(f, "{count} unexpected byte(s) after the last field"),
            InvalidUtf8 { field } => write!(f, "the {field} is not well-formed UTF-8"),
            NullCharacter { field } => write!(f, "the {field} contains U+0000"),
            InvalidProtocolName => {
                f.write_str("the protocol name is not \"MQTT\" (or \"MQIsdp\" for level 3)")
            }
            UnsupportedProtocolLevel(l) => write!(f, "protocol level {l} is not 3, 4 or 5"),
            ConnectReservedFlag => f.write_str("the reserved bit of the CONNECT flags is set"),
            WillQoSWithoutWill => f.write_str("Will QoS is non-zero while the Will Flag is 0"),
            WillRetainWithoutWill => f.write_str("Will Retain is set while the Will Flag is 0"),
            WillQoS3 => f.write_str("Will QoS is 3"),
            PasswordWithoutUsername => {
                f.write_str("the Password Flag is set without the User Name Flag")
            }
            ConnAckReservedFlags(b) => {
                write!(f, "CONNACK acknowledge flags {b:#04x} set reserved bits")
            }
            SessionPresentWithError => {
                f.write_str("CONNACK sets Session Present with a non-zero return/reason code")
            }
            PacketIdZero => f.write_str("the packet identifier is 0"),
            TopicName(e) => write!(f, "invalid topic name: {e}"),
            TopicFilter(e) => write!(f, "invalid topic filter: {e}"),
            EmptyTopicWithoutAlias => f.write_str("zero-length topic name without a Topic Alias"),
            TopicAliasZero => f.write_str("Topic Alias is 0"),
            NoLocalOnSharedSubscription => f.write_str("No Local is set on a shared subscription"),
            SubscriptionOptionsReservedBits(b) => {
                write!(f, "subscription options {b:#04x} set reserved bits")
            }
            SubscriptionQoS3 => f.write_str("a subscription requests QoS 3"),
            RetainHandling3 => f.write_str("Retain Handling is 3"),
            EmptySubscribe => f.write_str("SUBSCRIBE carries no topic filter"),
            EmptyUnsubscribe => f.write_str("UNSUBSCRIBE carries no topic filter"),
            UnknownProperty(id) => write!(f, "unknown property identifier {id:#04x}"),
            PropertyNotAllowed {
                property,
                packet_type,
            } => {
                write!(f, "{property} is not allowed in {packet_type}")
            }
            PropertyNotAllowedInWill(p) => write!(f, "{p} is not allowed in Will Properties"),
            DuplicateProperty(p) => write!(f, "{p} appears more than once"),
            InvalidPropertyValue { property, value } => {
                write!(f, "{property} has the invalid value {value}")
            }
            SubscriptionIdentifierZero => f.write_str("Subscription Identifier is 0"),
            InvalidResponseTopic => f.write_str("the Response Topic is not a valid topic name"),
            InvalidReasonCode { packet_type, code } => {
                write!(f, "{code:#04x} is not a {packet_type} reason code")
            }
            ReservedConnectReturnCode(c) => write!(f, "CONNACK return code {c} is reserved"),
        }
    }
}

/// A packet that could not be decoded: what broke, where, and which rule says so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    pub kind: ErrorKind,
    /// Offset from the first byte of the packet (the fixed header's first byte).
    pub offset: usize,
    /// The packet type, once the fixed header was read.
    pub packet_type: Option<PacketType>,
    /// The normative statement broken, where one is tagged.
    pub statement: Option<StatementRef>,
    /// The protocol version the packet was decoded under.
    pub version: ProtocolVersion,
}

impl DecodeError {
    pub(crate) fn new(
        kind: ErrorKind,
        offset: usize,
        packet_type: Option<PacketType>,
        version: ProtocolVersion,
    ) -> Self {
        let statement = kind.statement(version, packet_type);
        DecodeError {
            kind,
            offset,
            packet_type,
            statement,
            version,
        }
    }

    pub fn reaction(&self) -> Reaction {
        self.kind.reaction()
    }

    /// The statement id, e.g. `MQTT-3.3.1-4`.
    pub fn statement_id(&self) -> Option<&'static str> {
        self.statement.map(|s| s.id)
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let class = match self.reaction() {
            Reaction::ProtocolError => "protocol error",
            _ => "malformed packet",
        };
        write!(f, "{class}")?;
        if let Some(t) = self.packet_type {
            write!(f, " ({t})")?;
        }
        write!(f, " at byte {}: {}", self.offset, self.kind)?;
        match self.statement {
            Some(s) => write!(f, " [{s}]"),
            None => write!(
                f,
                " [MQTT {} §{}]",
                self.version,
                self.kind.section(self.version)
            ),
        }
    }
}

impl std::error::Error for DecodeError {}

/// A packet that cannot be put on the wire as given.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// A string or binary field longer than 65,535 bytes.
    FieldTooLong { field: &'static str, len: usize },
    /// The packet body exceeds the Remaining Length maximum (268,435,455 bytes).
    PacketTooLarge { len: usize },
    /// A Variable Byte Integer value over 268,435,455.
    VarIntTooLarge { field: &'static str, value: u32 },
    /// A 5.0 feature in a packet encoded for 3.1/3.1.1 (properties, reason codes, AUTH, …).
    NotInVersion {
        what: &'static str,
        version: ProtocolVersion,
    },
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::FieldTooLong { field, len } => {
                write!(f, "the {field} is {len} bytes; the limit is 65,535")
            }
            EncodeError::PacketTooLarge { len } => {
                write!(
                    f,
                    "the packet body is {len} bytes; the limit is 268,435,455"
                )
            }
            EncodeError::VarIntTooLarge { field, value } => {
                write!(
                    f,
                    "the {field} value {value} does not fit a Variable Byte Integer"
                )
            }
            EncodeError::NotInVersion { what, version } => {
                write!(f, "{what} cannot be expressed in MQTT {version}")
            }
        }
    }
}

impl std::error::Error for EncodeError {}
