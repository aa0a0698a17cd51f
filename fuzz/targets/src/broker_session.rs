//! `broker_session`: byte streams from several clients fed into the reference broker's
//! sans-IO core, the way its network shell does it, on a simulated clock.
//!
//! Input layout: `[config bits]` then records `[control][length: u16 BE][bytes…]`. The
//! control byte's low two bits pick one of four client slots, the next two what happens:
//! 0 the bytes arrive on that slot's connection (opened on first use), 1 the connection
//! closes abnormally, 2 the clock moves on by `length` seconds, 3 the slot's keep-alive
//! timer fires. Config bits: 1 Maximum QoS 1, 2 no retain, 4 tight limits (in-flight,
//! queues, sessions, Receive Maximum, aliases, packet size), 8 user names required.
//!
//! Checks: no panic; every packet the broker sends encodes and decodes under the strict
//! codec for the connection's version (a broker bug would otherwise reach real clients),
//! nothing follows a DISCONNECT from the broker, and what it queues stays within bounds.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use mqttspec_broker::Config;
use mqttspec_broker::core::{Broker, ConnId};
use mqttspec_codec::{Packet, PacketDecoder, ProtocolVersion, QoS};

/// Records acted on per input, so every input runs in bounded time.
const MAX_RECORDS: usize = 512;
/// Client connections the input can drive at once.
pub const SLOTS: usize = 4;

/// One step of the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Record<'a> {
    /// Bytes arrive on the slot's connection (opened on first use).
    Bytes { slot: usize, bytes: &'a [u8] },
    /// The slot's connection closes without DISCONNECT.
    Close { slot: usize },
    /// The clock moves on.
    Advance { secs: u16 },
    /// The slot's keep-alive timer fires.
    KeepAliveExpired { slot: usize },
}

impl<'a> Record<'a> {
    /// The next record of `input` and what follows it; `None` at the end.
    pub fn parse(input: &'a [u8]) -> Option<(Record<'a>, &'a [u8])> {
        let [control, hi, lo, rest @ ..] = input else {
            return None;
        };
        let len = u16::from_be_bytes([*hi, *lo]);
        let slot = usize::from(control & 0b11);
        Some(match (control >> 2) & 0b11 {
            0 => {
                let (bytes, rest) = rest.split_at(usize::from(len).min(rest.len()));
                (Record::Bytes { slot, bytes }, rest)
            }
            1 => (Record::Close { slot }, rest),
            2 => (Record::Advance { secs: len }, rest),
            _ => (Record::KeepAliveExpired { slot }, rest),
        })
    }

    /// The record's bytes (at most 65,535 bytes of data: longer is cut).
    pub fn encode(&self) -> Vec<u8> {
        let (kind, slot, len, data): (u8, usize, u16, &[u8]) = match *self {
            Record::Bytes { slot, bytes } => {
                let bytes = &bytes[..bytes.len().min(usize::from(u16::MAX))];
                (0, slot, bytes.len() as u16, bytes)
            }
            Record::Close { slot } => (1, slot, 0, &[]),
            Record::Advance { secs } => (2, 0, secs, &[]),
            Record::KeepAliveExpired { slot } => (3, slot, 0, &[]),
        };
        let mut out = vec![(kind << 2) | (slot as u8 & 0b11)];
        out.extend(len.to_be_bytes());
        out.extend_from_slice(data);
        out
    }
}

struct Slot {
    conn: ConnId,
    decoder: PacketDecoder,
    input: BytesMut,
}

pub fn run(data: &[u8]) {
    let Some((config_bits, mut records)) = data.split_first() else {
        return;
    };
    let config = config(*config_bits);
    let max_packet_size = config.maximum_packet_size;
    let mut broker = Broker::new(config);
    let mut now = Instant::now();
    let mut slots: [Option<Slot>; SLOTS] = Default::default();
    let mut closed: HashSet<ConnId> = HashSet::new();

    for _ in 0..MAX_RECORDS {
        let Some((record, rest)) = Record::parse(records) else {
            break;
        };
        records = rest;
        match record {
            Record::Bytes { slot, bytes } => {
                let s = slots[slot].get_or_insert_with(|| Slot {
                    conn: broker.open(),
                    decoder: PacketDecoder::new(ProtocolVersion::V3_1_1)
                        .with_max_packet_size(max_packet_size),
                    input: BytesMut::new(),
                });
                s.input.extend_from_slice(bytes);
                loop {
                    match s.decoder.decode(&mut s.input) {
                        Ok(Some(packet)) => broker.handle_packet(now, s.conn, packet),
                        Ok(None) => break,
                        Err(e) => {
                            broker.handle_decode_error(s.conn, &e);
                            s.input.clear();
                            break;
                        }
                    }
                }
                s.decoder.set_version(broker.version(s.conn));
            }
            Record::Close { slot } => {
                if let Some(s) = slots[slot].take() {
                    broker.handle_close(now, s.conn);
                    closed.insert(s.conn);
                }
            }
            Record::Advance { secs } => {
                now += Duration::from_secs(u64::from(secs));
                if broker.poll_timeout().is_some_and(|due| due <= now) {
                    broker.handle_timeout(now);
                }
            }
            Record::KeepAliveExpired { slot } => {
                if let Some(s) = &slots[slot] {
                    broker.handle_keep_alive_expired(s.conn);
                }
            }
        }
        flush(&mut broker, &mut slots, &mut closed, now);
    }
}

/// Takes what the broker queued for each connection, checks it, and closes the connections
/// it asked to close, as the network shell would.
fn flush(
    broker: &mut Broker,
    slots: &mut [Option<Slot>; SLOTS],
    closed: &mut HashSet<ConnId>,
    now: Instant,
) {
    // Closing one connection can queue packets for others (a will); bounded by the slots.
    for _ in 0..=SLOTS {
        let dirty = broker.take_dirty();
        if dirty.is_empty() {
            return;
        }
        for conn in dirty {
            let version = broker.version(conn);
            let outbox = broker.take_outbox(conn);
            assert!(
                !closed.contains(&conn) || outbox.packets.is_empty(),
                "packets queued for connection {conn} after it closed: {:?}",
                outbox.packets
            );
            for (i, packet) in outbox.packets.iter().enumerate() {
                check_outgoing(packet, version);
                if matches!(packet, Packet::Disconnect(_)) {
                    assert!(
                        i + 1 == outbox.packets.len() && outbox.close,
                        "the broker sent {:?} after its DISCONNECT",
                        &outbox.packets[i + 1..]
                    );
                }
            }
            if outbox.close && !closed.contains(&conn) {
                broker.handle_close(now, conn);
                closed.insert(conn);
                for slot in slots.iter_mut() {
                    if slot.as_ref().is_some_and(|s| s.conn == conn) {
                        *slot = None;
                    }
                }
            }
        }
    }
}

/// A packet from the broker must be one the strict codec accepts for the connection.
fn check_outgoing(packet: &Packet, version: ProtocolVersion) {
    let bytes = packet.to_bytes(version).unwrap_or_else(|e| {
        panic!("{version}: the broker queued {packet:?}, which does not encode: {e}")
    });
    if let Err(e) = Packet::decode(&bytes, version) {
        panic!("{version}: the broker sent {packet:?}, which the strict decoder refuses: {e}");
    }
}

fn config(bits: u8) -> Config {
    let mut config = Config::default();
    if bits & 1 != 0 {
        config.maximum_qos = QoS::AtLeastOnce;
    }
    if bits & 2 != 0 {
        config.retain_available = false;
    }
    if bits & 4 != 0 {
        config.max_inflight_messages = 2;
        config.max_queued_messages = 4;
        config.max_sessions = 3;
        config.receive_maximum = 2;
        config.topic_alias_maximum = 2;
        config.maximum_packet_size = 256;
    }
    if bits & 8 != 0 {
        config.users = Some(HashMap::from([("user".to_owned(), "pass".to_owned())]));
    }
    config
}
