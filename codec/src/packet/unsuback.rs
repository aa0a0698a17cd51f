//! UNSUBACK – Unsubscribe acknowledgement (3.1.1 §3.11, 5.0 §3.11).

use crate::error::{DecodeError, EncodeError, ErrorKind};
use crate::packet::PacketType;
use crate::properties::{Properties, PropertyContext};
use crate::reader::Reader;
use crate::reason::ReasonCode;
use crate::types::ProtocolVersion;
use crate::writer::Writer;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct UnsubAck {
    pub packet_id: u16,
    /// 5.0 only.
    pub properties: Properties,
    /// 5.0 only: one per Topic Filter, in order (MQTT-3.11.3-1). Empty under 3.1.1.
    pub reason_codes: Vec<ReasonCode>,
}

impl UnsubAck {
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<UnsubAck, DecodeError> {
        let packet_id = super::read_packet_id(r)?;
        let mut ack = UnsubAck {
            packet_id,
            ..Default::default()
        };
        if r.version.is_v5() {
            ack.properties = Properties::read(r, PropertyContext::Packet(PacketType::UnsubAck))?;
            while !r.is_empty() {
                let at = r.position();
                let code = r.u8("reason code")?;
                // MQTT-3.11.3-2
                if !ReasonCode(code).allowed_in(PacketType::UnsubAck) {
                    return Err(r.error_at(
                        ErrorKind::InvalidReasonCode {
                            packet_type: PacketType::UnsubAck,
                            code,
                        },
                        at,
                    ));
                }
                ack.reason_codes.push(ReasonCode(code));
            }
            if ack.reason_codes.is_empty() {
                return Err(r.error(ErrorKind::Truncated {
                    field: "reason code",
                }));
            }
        }
        r.finish()?;
        Ok(ack)
    }

    pub(crate) fn body_len(&self, v: ProtocolVersion) -> usize {
        2 + if v.is_v5() {
            self.properties.encoded_len() + self.reason_codes.len()
        } else {
            0
        }
    }

    pub(crate) fn write(&self, v: ProtocolVersion, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        super::require_v5(v, !self.properties.is_empty(), "UNSUBACK properties")?;
        super::require_v5(v, !self.reason_codes.is_empty(), "UNSUBACK reason codes")?;
        w.u16("packet identifier", self.packet_id);
        if v.is_v5() {
            self.properties.write("properties", w)?;
            for code in &self.reason_codes {
                w.u8("reason code", code.0);
            }
        }
        Ok(())
    }
}
