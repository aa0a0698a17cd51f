//! Deliberate bugs for testing bug finders (cargo feature `planted-bugs`, off by default).
//!
//! A broker built with the feature and started with [`Config::planted_bug`] set (or
//! `mqttspec-broker --planted-bug NAME`) misbehaves in exactly one known way, on exactly the
//! inputs documented on each variant; every other input is handled as by the correct broker.
//! They exist so that a fuzzer can be shown to find bugs of known classes: a crash, a hang,
//! and a wrong answer. Never enable one outside such a test.
//!
//! [`Config::planted_bug`]: crate::Config::planted_bug

use std::fmt;
use std::time::Duration;

use mqttspec_codec::{FixedHeader, Packet, PacketType, Properties, ProtocolVersion};

/// One deliberate bug the broker can be started with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PlantedBug {
    /// `crash-on-empty-topic`: a PUBLISH whose Topic Name is zero-length, received on a
    /// connection whose CONNECT was accepted, aborts the broker process
    /// (`std::process::abort()`, so it dies of SIGABRT). It is detected on the raw frame,
    /// before decoding: a complete PUBLISH whose Topic Name length (the first two bytes after
    /// the fixed header) is 0. So it triggers under every protocol version, whether the packet
    /// is valid (5.0 with a Topic Alias) or one the correct broker refuses (5.0 without a
    /// Topic Alias; 3.1/3.1.1, where the decoder calls it malformed). Before CONNECT is
    /// accepted such a PUBLISH is handled correctly (the connection is closed).
    CrashOnEmptyTopic,
    /// `hang-on-property-flood`: a decoded packet carrying more than 64 User Properties
    /// (counting a CONNECT's Will Properties too) makes the connection's task, while it
    /// holds the mutex around the broker core, sleep forever in 100 ms steps (no CPU is
    /// burned). The process stays alive and the kernel still accepts TCP connections, but no
    /// connection is served again: no CONNACK, PUBACK, PINGRESP or delivery, and the worker
    /// threads that next reach for the core block on the mutex. 64 or fewer are fine.
    HangOnPropertyFlood,
    /// `wrong-puback-id`: the PUBACK answering a QoS 1 PUBLISH whose Packet Identifier is
    /// 0x8000 or more carries that identifier with bit 15 cleared (0x8001 is acknowledged as
    /// 0x0001, 0x8000 as the invalid 0x0000), an identifier the client never used. PUBACKs
    /// for identifiers below 0x8000 are right, as is every other packet.
    WrongPubackId,
}

impl PlantedBug {
    /// Every planted bug, in declaration order.
    pub const ALL: [PlantedBug; 3] = [
        PlantedBug::CrashOnEmptyTopic,
        PlantedBug::HangOnPropertyFlood,
        PlantedBug::WrongPubackId,
    ];

    /// The kebab-case name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            PlantedBug::CrashOnEmptyTopic => "crash-on-empty-topic",
            PlantedBug::HangOnPropertyFlood => "hang-on-property-flood",
            PlantedBug::WrongPubackId => "wrong-puback-id",
        }
    }

    /// The bug named `name` (as [`PlantedBug::name`] gives it); the error lists the names.
    pub fn parse(name: &str) -> Result<PlantedBug, String> {
        PlantedBug::ALL
            .into_iter()
            .find(|b| b.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = PlantedBug::ALL.iter().map(|b| b.name()).collect();
                format!(
                    "unknown planted bug {name:?} (expected one of: {})",
                    names.join(", ")
                )
            })
    }
}

impl fmt::Display for PlantedBug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for PlantedBug {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PlantedBug::parse(s)
    }
}

/// [`PlantedBug::CrashOnEmptyTopic`]'s trigger: `input` starts with a complete PUBLISH
/// frame whose Topic Name length is 0. Anything else (another packet, an incomplete or
/// oversized frame, a bad fixed header) is left to the decoder.
pub(crate) fn is_empty_topic_publish(
    input: &[u8],
    version: ProtocolVersion,
    max_packet_size: u32,
) -> bool {
    let Ok(Some(header)) = FixedHeader::parse(input, version, max_packet_size) else {
        return false;
    };
    header.packet_type == PacketType::Publish
        && input.len() >= header.packet_len()
        && header.remaining_length >= 2
        && input[header.header_len..header.header_len + 2] == [0, 0]
}

/// User Properties anywhere in `packet` (a CONNECT's own and its Will Properties).
pub(crate) fn user_property_count(packet: &Packet) -> usize {
    let count = |p: &Properties| p.user_properties().count();
    match packet {
        Packet::Connect(c) => {
            count(&c.properties) + c.will.as_ref().map_or(0, |w| count(&w.properties))
        }
        Packet::ConnAck(p) => count(&p.properties),
        Packet::Publish(p) => count(&p.properties),
        Packet::PubAck(p) | Packet::PubRec(p) | Packet::PubRel(p) | Packet::PubComp(p) => {
            count(&p.properties)
        }
        Packet::Subscribe(p) => count(&p.properties),
        Packet::SubAck(p) => count(&p.properties),
        Packet::Unsubscribe(p) => count(&p.properties),
        Packet::UnsubAck(p) => count(&p.properties),
        Packet::Disconnect(p) => count(&p.properties),
        Packet::Auth(p) => count(&p.properties),
        Packet::PingReq | Packet::PingResp => 0,
    }
}

/// More User Properties than this in one packet trigger [`PlantedBug::HangOnPropertyFlood`].
pub(crate) const PROPERTY_FLOOD: usize = 64;

/// [`PlantedBug::HangOnPropertyFlood`]: never returns. The caller holds the core's mutex.
pub(crate) fn hang_forever() -> ! {
    loop {
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for bug in PlantedBug::ALL {
            assert_eq!(PlantedBug::parse(bug.name()), Ok(bug));
            assert_eq!(bug.to_string(), bug.name());
        }
        assert!(PlantedBug::parse("nope").is_err());
    }

    #[test]
    fn empty_topic_frames() {
        let v = ProtocolVersion::V3_1_1;
        // QoS 0, topic length 0, payload "x".
        assert!(is_empty_topic_publish(&[0x30, 3, 0, 0, b'x'], v, 1 << 20));
        // Incomplete: left to the decoder.
        assert!(!is_empty_topic_publish(&[0x30, 3, 0, 0], v, 1 << 20));
        // Topic "a".
        assert!(!is_empty_topic_publish(&[0x30, 3, 0, 1, b'a'], v, 1 << 20));
        // Remaining length 0: no topic length at all.
        assert!(!is_empty_topic_publish(&[0x30, 0], v, 1 << 20));
        // Not a PUBLISH (PUBACK with id 0).
        assert!(!is_empty_topic_publish(&[0x40, 2, 0, 0], v, 1 << 20));
    }
}
