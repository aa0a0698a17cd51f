//! Human-readable forms of packets and of undecodable bytes, for wire transcripts.
//!
//! One line per packet: the type, then its fields in wire order, then properties. Payloads
//! show as text when they are short printable UTF-8, else as hex; long ones are cut with
//! their full length given.

use std::fmt::Write;

use crate::packet::{Packet, PacketType};
use crate::properties::{Properties, PropertyValue};
use crate::reason::ReasonCode;
use crate::types::ProtocolVersion;

/// Bytes of a payload shown before it is cut.
const PAYLOAD_PREVIEW: usize = 48;
/// Bytes of an undecodable packet shown in hex before it is cut.
const UNDECODABLE_PREVIEW: usize = 256;

/// Lower-case hex, bytes separated by spaces: `30 0d 00 05`.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Parses hex as users type it: spaces, newlines, `0x` prefixes and `:` separators allowed.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: String = text
        .split(|c: char| c.is_whitespace() || c == ':' || c == ',')
        .map(|t| {
            t.strip_prefix("0x")
                .or_else(|| t.strip_prefix("0X"))
                .unwrap_or(t)
        })
        .collect();
    if digits.len() % 2 != 0 {
        return Err(format!("odd number of hex digits ({})", digits.len()));
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| {
            let pair = digits.get(i..i + 2).unwrap_or_default();
            u8::from_str_radix(pair, 16).map_err(|_| format!("`{pair}` is not a hex byte"))
        })
        .collect()
}

/// One packet as one line.
pub fn packet(p: &Packet) -> String {
    let mut out = String::new();
    let t = p.packet_type();
    out.push_str(t.name());
    match p {
        Packet::Connect(c) => {
            let _ = write!(
                out,
                " protocol={} clean_start={} keep_alive={} client_id={:?}",
                c.protocol,
                c.clean_start,
                c.keep_alive,
                c.client_id.as_str()
            );
            if let Some(u) = &c.username {
                let _ = write!(out, " username={:?}", u.as_str());
            }
            if let Some(pw) = &c.password {
                let _ = write!(out, " password=<{} bytes>", pw.len());
            }
            properties(&mut out, "", &c.properties);
            if let Some(w) = &c.will {
                let _ = write!(
                    out,
                    " will={{topic={:?} qos={} retain={} payload=",
                    w.topic.as_str(),
                    w.qos,
                    w.retain
                );
                payload(&mut out, &w.payload);
                properties(&mut out, "", &w.properties);
                out.push('}');
            }
        }
        Packet::ConnAck(c) => {
            let _ = write!(
                out,
                " session_present={} reason={}",
                c.session_present,
                reason(c.reason_code, t)
            );
            properties(&mut out, "", &c.properties);
        }
        Packet::Publish(pb) => {
            let _ = write!(out, " topic={:?} qos={}", pb.topic.as_str(), pb.qos);
            if pb.qos.as_u8() > 0 {
                let _ = write!(out, " id={}", pb.packet_id);
            }
            if pb.retain {
                out.push_str(" retain");
            }
            if pb.dup {
                out.push_str(" dup");
            }
            properties(&mut out, "", &pb.properties);
            out.push_str(" payload=");
            payload(&mut out, &pb.payload);
        }
        Packet::PubAck(a) | Packet::PubRec(a) | Packet::PubRel(a) | Packet::PubComp(a) => {
            let _ = write!(out, " id={}", a.packet_id);
            if a.reason_code != ReasonCode::SUCCESS {
                let _ = write!(out, " reason={}", reason(a.reason_code, t));
            }
            properties(&mut out, "", &a.properties);
        }
        Packet::Subscribe(s) => {
            let _ = write!(out, " id={}", s.packet_id);
            properties(&mut out, "", &s.properties);
            for sub in &s.subscriptions {
                let o = sub.options;
                let _ = write!(out, " [{:?} qos={}", sub.filter.as_str(), o.qos);
                if o.no_local {
                    out.push_str(" no_local");
                }
                if o.retain_as_published {
                    out.push_str(" retain_as_published");
                }
                if o.retain_handling as u8 != 0 {
                    let _ = write!(out, " retain_handling={}", o.retain_handling as u8);
                }
                out.push(']');
            }
        }
        Packet::SubAck(s) => {
            let _ = write!(out, " id={}", s.packet_id);
            properties(&mut out, "", &s.properties);
            codes(&mut out, &s.reason_codes, t);
        }
        Packet::Unsubscribe(u) => {
            let _ = write!(out, " id={}", u.packet_id);
            properties(&mut out, "", &u.properties);
            for f in &u.filters {
                let _ = write!(out, " {:?}", f.as_str());
            }
        }
        Packet::UnsubAck(u) => {
            let _ = write!(out, " id={}", u.packet_id);
            properties(&mut out, "", &u.properties);
            if !u.reason_codes.is_empty() {
                codes(&mut out, &u.reason_codes, t);
            }
        }
        Packet::PingReq | Packet::PingResp => {}
        Packet::Disconnect(d) => {
            let _ = write!(out, " reason={}", reason(d.reason_code, t));
            properties(&mut out, "", &d.properties);
        }
        Packet::Auth(a) => {
            let _ = write!(out, " reason={}", reason(a.reason_code, t));
            properties(&mut out, "", &a.properties);
        }
    }
    out
}

/// Bytes as a transcript shows them: the decoded packet, or the hex and the decode error.
pub fn bytes(data: &[u8], version: ProtocolVersion) -> String {
    let buf = bytes::Bytes::copy_from_slice(data);
    match Packet::decode(&buf, version) {
        Ok(p) => packet(&p),
        Err(e) => {
            let shown = data.get(..UNDECODABLE_PREVIEW).unwrap_or(data);
            let more = if shown.len() < data.len() {
                format!(" … ({} bytes)", data.len())
            } else {
                String::new()
            };
            format!("undecodable [{}{more}]: {e}", hex(shown))
        }
    }
}

fn reason(code: ReasonCode, t: PacketType) -> String {
    match code.name_in(t).or_else(|| code.name()) {
        Some(name) => format!("{:#04x}({name})", code.0),
        None => format!("{:#04x}", code.0),
    }
}

fn codes(out: &mut String, codes: &[ReasonCode], t: PacketType) {
    out.push_str(" codes=[");
    for (i, c) in codes.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&reason(*c, t));
    }
    out.push(']');
}

fn payload(out: &mut String, data: &[u8]) {
    let shown = data.get(..PAYLOAD_PREVIEW).unwrap_or(data);
    match std::str::from_utf8(shown) {
        Ok(text)
            if text
                .chars()
                .all(|c| !c.is_control() || c == '\n' || c == '\t') =>
        {
            let _ = write!(out, "{text:?}");
        }
        _ => {
            let _ = write!(out, "0x[{}]", hex(shown));
        }
    }
    if data.len() > shown.len() || data.is_empty() {
        let _ = write!(out, "({} bytes)", data.len());
    }
}

fn properties(out: &mut String, label: &str, props: &Properties) {
    if props.is_empty() {
        return;
    }
    let _ = write!(out, " {label}props{{");
    for (i, p) in props.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(p.id().name());
        out.push('=');
        match p.value() {
            PropertyValue::Byte(v) => {
                let _ = write!(out, "{v}");
            }
            PropertyValue::TwoByteInteger(v) => {
                let _ = write!(out, "{v}");
            }
            PropertyValue::FourByteInteger(v) | PropertyValue::VariableByteInteger(v) => {
                let _ = write!(out, "{v}");
            }
            PropertyValue::Utf8String(s) => {
                let _ = write!(out, "{:?}", s.as_str());
            }
            PropertyValue::BinaryData(b) => {
                let _ = write!(out, "0x[{}]", hex(b));
            }
            PropertyValue::Utf8StringPair(k, v) => {
                let _ = write!(out, "({:?}, {:?})", k.as_str(), v.as_str());
            }
        }
    }
    out.push('}');
}
