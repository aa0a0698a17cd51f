//! Reason codes (5.0 §2.4) and the 3.1.1 CONNACK return codes they stand in for.
//!
//! [`ReasonCode`] is a newtype over the byte with one named constant per code, so values the
//! spec does not define are kept (and can be written on purpose) rather than lost. Which
//! codes each packet may use is a table here; the decoder checks it (MQTT-3.4.2-1 and kin).

use std::fmt;

use crate::packet::PacketType;

/// A 5.0 reason code, or under 3.1/3.1.1 the SUBACK return code and (mapped, see
/// [`ReasonCode::from_v3_connack`]) the CONNACK return code.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct ReasonCode(pub u8);

macro_rules! reason_codes {
    ($( $name:ident = $value:literal, $text:literal; )*) => {
        impl ReasonCode {
            $( pub const $name: ReasonCode = ReasonCode($value); )*
        }
        /// The spec's names for a value; 0x00 has several ("Success", "Normal disconnection",
        /// "Granted QoS 0"), chosen by packet in [`ReasonCode::name_in`].
        fn base_name(code: u8) -> Option<&'static str> {
            match code { $( $value => Some($text), )* _ => None }
        }
    };
}

reason_codes! {
    SUCCESS = 0x00, "Success";
    GRANTED_QOS_1 = 0x01, "Granted QoS 1";
    GRANTED_QOS_2 = 0x02, "Granted QoS 2";
    DISCONNECT_WITH_WILL_MESSAGE = 0x04, "Disconnect with Will Message";
    NO_MATCHING_SUBSCRIBERS = 0x10, "No matching subscribers";
    NO_SUBSCRIPTION_EXISTED = 0x11, "No subscription existed";
    CONTINUE_AUTHENTICATION = 0x18, "Continue authentication";
    RE_AUTHENTICATE = 0x19, "Re-authenticate";
    UNSPECIFIED_ERROR = 0x80, "Unspecified error";
    MALFORMED_PACKET = 0x81, "Malformed Packet";
    PROTOCOL_ERROR = 0x82, "Protocol Error";
    IMPLEMENTATION_SPECIFIC_ERROR = 0x83, "Implementation specific error";
    UNSUPPORTED_PROTOCOL_VERSION = 0x84, "Unsupported Protocol Version";
    CLIENT_IDENTIFIER_NOT_VALID = 0x85, "Client Identifier not valid";
    BAD_USER_NAME_OR_PASSWORD = 0x86, "Bad User Name or Password";
    NOT_AUTHORIZED = 0x87, "Not authorized";
    SERVER_UNAVAILABLE = 0x88, "Server unavailable";
    SERVER_BUSY = 0x89, "Server busy";
    BANNED = 0x8A, "Banned";
    SERVER_SHUTTING_DOWN = 0x8B, "Server shutting down";
    BAD_AUTHENTICATION_METHOD = 0x8C, "Bad authentication method";
    KEEP_ALIVE_TIMEOUT = 0x8D, "Keep Alive timeout";
    SESSION_TAKEN_OVER = 0x8E, "Session taken over";
    TOPIC_FILTER_INVALID = 0x8F, "Topic Filter invalid";
    TOPIC_NAME_INVALID = 0x90, "Topic Name invalid";
    PACKET_IDENTIFIER_IN_USE = 0x91, "Packet Identifier in use";
    PACKET_IDENTIFIER_NOT_FOUND = 0x92, "Packet Identifier not found";
    RECEIVE_MAXIMUM_EXCEEDED = 0x93, "Receive Maximum exceeded";
    TOPIC_ALIAS_INVALID = 0x94, "Topic Alias invalid";
    PACKET_TOO_LARGE = 0x95, "Packet too large";
    MESSAGE_RATE_TOO_HIGH = 0x96, "Message rate too high";
    QUOTA_EXCEEDED = 0x97, "Quota exceeded";
    ADMINISTRATIVE_ACTION = 0x98, "Administrative action";
    PAYLOAD_FORMAT_INVALID = 0x99, "Payload format invalid";
    RETAIN_NOT_SUPPORTED = 0x9A, "Retain not supported";
    QOS_NOT_SUPPORTED = 0x9B, "QoS not supported";
    USE_ANOTHER_SERVER = 0x9C, "Use another server";
    SERVER_MOVED = 0x9D, "Server moved";
    SHARED_SUBSCRIPTIONS_NOT_SUPPORTED = 0x9E, "Shared Subscriptions not supported";
    CONNECTION_RATE_EXCEEDED = 0x9F, "Connection rate exceeded";
    MAXIMUM_CONNECT_TIME = 0xA0, "Maximum connect time";
    SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED = 0xA1, "Subscription Identifiers not supported";
    WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED = 0xA2, "Wildcard Subscriptions not supported";
}

impl ReasonCode {
    /// 0x00 in DISCONNECT.
    pub const NORMAL_DISCONNECTION: ReasonCode = ReasonCode(0x00);
    /// 0x00 in SUBACK.
    pub const GRANTED_QOS_0: ReasonCode = ReasonCode(0x00);

    /// 0x80 and above report failure (§2.4).
    pub fn is_error(self) -> bool {
        self.0 >= 0x80
    }

    /// The spec's name of this code in `packet`, if the code is defined there.
    pub fn name_in(self, packet: PacketType) -> Option<&'static str> {
        if !self.allowed_in(packet) {
            return None;
        }
        match (self.0, packet) {
            (0x00, PacketType::Disconnect) => Some("Normal disconnection"),
            (0x00, PacketType::SubAck) => Some("Granted QoS 0"),
            (code, _) => base_name(code),
        }
    }

    /// Any name the spec gives this value.
    pub fn name(self) -> Option<&'static str> {
        base_name(self.0)
    }

    /// Is this one of the reason codes the spec lists for `packet` (5.0)?
    pub fn allowed_in(self, packet: PacketType) -> bool {
        allowed_codes(packet).contains(&self.0)
    }

    /// The 5.0 equivalent of a 3.1/3.1.1 CONNACK return code (table 3.1 of 3.1.1):
    /// 0 Accepted, 1 unacceptable protocol version, 2 identifier rejected, 3 server
    /// unavailable, 4 bad user name or password, 5 not authorized. 6..=255 are reserved.
    pub fn from_v3_connack(code: u8) -> Option<ReasonCode> {
        Some(match code {
            0 => ReasonCode::SUCCESS,
            1 => ReasonCode::UNSUPPORTED_PROTOCOL_VERSION,
            2 => ReasonCode::CLIENT_IDENTIFIER_NOT_VALID,
            3 => ReasonCode::SERVER_UNAVAILABLE,
            4 => ReasonCode::BAD_USER_NAME_OR_PASSWORD,
            5 => ReasonCode::NOT_AUTHORIZED,
            _ => return None,
        })
    }

    /// The 3.1/3.1.1 CONNACK return code for this reason code, if it has one.
    pub fn to_v3_connack(self) -> Option<u8> {
        Some(match self {
            ReasonCode::SUCCESS => 0,
            ReasonCode::UNSUPPORTED_PROTOCOL_VERSION => 1,
            ReasonCode::CLIENT_IDENTIFIER_NOT_VALID => 2,
            ReasonCode::SERVER_UNAVAILABLE => 3,
            ReasonCode::BAD_USER_NAME_OR_PASSWORD => 4,
            ReasonCode::NOT_AUTHORIZED => 5,
            _ => return None,
        })
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{:#04x} {name}", self.0),
            None => write!(f, "{:#04x}", self.0),
        }
    }
}

/// The reason codes each packet may carry (5.0 §3.2.2.2, §3.4.2.1, …, §3.15.2.1).
pub fn allowed_codes(packet: PacketType) -> &'static [u8] {
    match packet {
        PacketType::ConnAck => &[
            0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90,
            0x95, 0x97, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F,
        ],
        PacketType::PubAck | PacketType::PubRec => {
            &[0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99]
        }
        PacketType::PubRel | PacketType::PubComp => &[0x00, 0x92],
        PacketType::SubAck => &[
            0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2,
        ],
        PacketType::UnsubAck => &[0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91],
        PacketType::Disconnect => &[
            0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E, 0x8F, 0x90, 0x93,
            0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1,
            0xA2,
        ],
        PacketType::Auth => &[0x00, 0x18, 0x19],
        _ => &[],
    }
}

/// SUBACK return codes of 3.1.1 (MQTT-3.9.3-2); 3.1 has no failure code.
pub fn v3_suback_codes(version: crate::ProtocolVersion) -> &'static [u8] {
    match version {
        crate::ProtocolVersion::V3_1 => &[0x00, 0x01, 0x02],
        _ => &[0x00, 0x01, 0x02, 0x80],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_is_named_by_packet() {
        assert_eq!(
            ReasonCode(0).name_in(PacketType::Disconnect),
            Some("Normal disconnection")
        );
        assert_eq!(
            ReasonCode(0).name_in(PacketType::SubAck),
            Some("Granted QoS 0")
        );
        assert_eq!(ReasonCode(0).name_in(PacketType::PubAck), Some("Success"));
    }

    #[test]
    fn unknown_values_are_kept() {
        let code = ReasonCode(0x42);
        assert_eq!(code.0, 0x42);
        assert_eq!(code.name(), None);
        assert_eq!(code.to_string(), "0x42");
    }

    #[test]
    fn v3_connack_codes_map_both_ways() {
        for code in 0..=5 {
            let reason = ReasonCode::from_v3_connack(code).expect("defined");
            assert_eq!(reason.to_v3_connack(), Some(code));
        }
        assert_eq!(ReasonCode::from_v3_connack(6), None);
    }

    #[test]
    fn pubrel_allows_only_success_and_not_found() {
        assert!(ReasonCode::PACKET_IDENTIFIER_NOT_FOUND.allowed_in(PacketType::PubRel));
        assert!(!ReasonCode::UNSPECIFIED_ERROR.allowed_in(PacketType::PubRel));
    }
}
