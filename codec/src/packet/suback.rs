//! SUBACK – Subscribe acknowledgement (3.1.1 §3.9, 5.0 §3.9).

use crate::error::{DecodeError, EncodeError, ErrorKind};
use crate::packet::PacketType;
use crate::properties::{Properties, PropertyContext};
use crate::reader::Reader;
use crate::reason::{self, ReasonCode};
use crate::types::ProtocolVersion;
use crate::writer::Writer;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct SubAck {
    pub packet_id: u16,
    pub properties: Properties,
    /// One per Topic Filter of the SUBSCRIBE, in order (MQTT-3.9.3-1). The 3.1.1 return
    /// codes 0x00, 0x01, 0x02 and 0x80 have the same values in 5.0.
    pub reason_codes: Vec<ReasonCode>,
}

impl SubAck {
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<SubAck, DecodeError> {
        let v = r.version;
        let packet_id = super::read_packet_id(r)?;
        let properties = if v.is_v5() {
            Properties::read(r, PropertyContext::Packet(PacketType::SubAck))?
        } else {
            Properties::new()
        };
        let mut reason_codes = Vec::with_capacity(r.remaining());
        while !r.is_empty() {
            let at = r.position();
            let code = r.u8("reason code")?;
            // MQTT-3.9.3-2 (both versions, with their own tables)
            let allowed = if v.is_v5() {
                ReasonCode(code).allowed_in(PacketType::SubAck)
            } else {
                reason::v3_suback_codes(v).contains(&code)
            };
            if !allowed {
                return Err(r.error_at(
                    ErrorKind::InvalidReasonCode {
                        packet_type: PacketType::SubAck,
                        code,
                    },
                    at,
                ));
            }
            reason_codes.push(ReasonCode(code));
        }
        // A SUBSCRIBE has at least one filter, so its SUBACK has at least one code.
        if reason_codes.is_empty() {
            return Err(r.error(ErrorKind::Truncated {
                field: "reason code",
            }));
        }
        Ok(SubAck {
            packet_id,
            properties,
            reason_codes,
        })
    }

    pub(crate) fn body_len(&self, v: ProtocolVersion) -> usize {
        2 + if v.is_v5() {
            self.properties.encoded_len()
        } else {
            0
        } + self.reason_codes.len()
    }

    pub(crate) fn write(&self, v: ProtocolVersion, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        super::require_v5(v, !self.properties.is_empty(), "SUBACK properties")?;
        w.u16("packet identifier", self.packet_id);
        if v.is_v5() {
            self.properties.write("properties", w)?;
        }
        for code in &self.reason_codes {
            w.u8("reason code", code.0);
        }
        Ok(())
    }
}
