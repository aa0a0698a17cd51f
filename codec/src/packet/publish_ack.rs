//! PUBACK, PUBREC, PUBREL, PUBCOMP (3.1.1 §3.4–3.7, 5.0 §3.4–3.7): the four QoS 1/2
//! acknowledgements share one layout — Packet Identifier, then in 5.0 an optional Reason
//! Code and optional properties.

use crate::error::{DecodeError, EncodeError, ErrorKind};
use crate::packet::PacketType;
use crate::properties::{Properties, PropertyContext};
use crate::reader::Reader;
use crate::reason::ReasonCode;
use crate::types::ProtocolVersion;
use crate::writer::Writer;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct PublishAck {
    pub packet_id: u16,
    /// Always Success under 3.1/3.1.1.
    pub reason_code: ReasonCode,
    pub properties: Properties,
}

impl PublishAck {
    pub fn new(packet_id: u16) -> Self {
        PublishAck {
            packet_id,
            ..Default::default()
        }
    }

    pub(crate) fn decode(t: PacketType, r: &mut Reader<'_>) -> Result<PublishAck, DecodeError> {
        let packet_id = super::read_packet_id(r)?;
        let mut ack = PublishAck::new(packet_id);
        if r.version.is_v5() {
            // "The Reason Code and Property Length can be omitted if the Reason Code is 0x00
            // (Success) and there are no Properties": Remaining Length 2, or 3 without
            // Property Length.
            if !r.is_empty() {
                let at = r.position();
                let code = r.u8("reason code")?;
                ack.reason_code = ReasonCode(code);
                // MQTT-3.4.2-1, MQTT-3.5.2-1, MQTT-3.6.2-1, MQTT-3.7.2-1
                if !ack.reason_code.allowed_in(t) {
                    return Err(r.error_at(
                        ErrorKind::InvalidReasonCode {
                            packet_type: t,
                            code,
                        },
                        at,
                    ));
                }
            }
            if !r.is_empty() {
                ack.properties = Properties::read(r, PropertyContext::Packet(t))?;
            }
        }
        r.finish()?;
        Ok(ack)
    }

    /// The shortest form that carries the fields (5.0 §3.4.2.1).
    pub(crate) fn body_len(&self, v: ProtocolVersion) -> usize {
        if !v.is_v5() {
            2
        } else if !self.properties.is_empty() {
            3 + self.properties.encoded_len()
        } else if self.reason_code != ReasonCode::SUCCESS {
            3
        } else {
            2
        }
    }

    pub(crate) fn write(&self, v: ProtocolVersion, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        super::require_v5(v, !self.properties.is_empty(), "acknowledgement properties")?;
        super::require_v5(
            v,
            self.reason_code != ReasonCode::SUCCESS,
            "a non-success reason code",
        )?;
        w.u16("packet identifier", self.packet_id);
        let len = self.body_len(v);
        if len >= 3 {
            w.u8("reason code", self.reason_code.0);
        }
        if len > 3 {
            self.properties.write("properties", w)?;
        }
        Ok(())
    }
}
