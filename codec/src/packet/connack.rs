//! CONNACK – Acknowledge connection request (3.1.1 §3.2, 5.0 §3.2).

use crate::error::{DecodeError, EncodeError, ErrorKind};
use crate::packet::PacketType;
use crate::properties::{Properties, PropertyContext};
use crate::reader::Reader;
use crate::reason::ReasonCode;
use crate::types::ProtocolVersion;
use crate::writer::Writer;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct ConnAck {
    pub session_present: bool,
    /// The 5.0 reason code. Under 3.1/3.1.1 the return code is mapped to its 5.0
    /// equivalent (see [`ReasonCode::from_v3_connack`]), so one field serves every version.
    pub reason_code: ReasonCode,
    pub properties: Properties,
}

impl ConnAck {
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<ConnAck, DecodeError> {
        let v = r.version;
        let flags_at = r.position();
        let flags = r.u8("connect acknowledge flags")?;
        // MQTT-3.2.2-1 (5.0): bits 7-1 reserved. 3.1 has no Session Present bit at all.
        if flags & 0xFE != 0 && v != ProtocolVersion::V3_1 {
            return Err(r.error_at(ErrorKind::ConnAckReservedFlags(flags), flags_at));
        }
        let session_present = flags & 0x01 != 0 && v != ProtocolVersion::V3_1;
        let code_at = r.position();
        let code = r.u8("reason code")?;
        let reason_code = if v.is_v5() {
            let reason = ReasonCode(code);
            // MQTT-3.2.2-8
            if !reason.allowed_in(PacketType::ConnAck) {
                return Err(r.error_at(
                    ErrorKind::InvalidReasonCode {
                        packet_type: PacketType::ConnAck,
                        code,
                    },
                    code_at,
                ));
            }
            reason
        } else {
            ReasonCode::from_v3_connack(code)
                .ok_or_else(|| r.error_at(ErrorKind::ReservedConnectReturnCode(code), code_at))?
        };
        // MQTT-3.2.2-4 (3.1.1) / MQTT-3.2.2-6 (5.0)
        if session_present && reason_code != ReasonCode::SUCCESS {
            return Err(r.error_at(ErrorKind::SessionPresentWithError, flags_at));
        }
        let properties = if v.is_v5() {
            Properties::read(r, PropertyContext::Packet(PacketType::ConnAck))?
        } else {
            Properties::new()
        };
        r.finish()?;
        Ok(ConnAck {
            session_present,
            reason_code,
            properties,
        })
    }

    pub(crate) fn body_len(&self, v: ProtocolVersion) -> usize {
        2 + if v.is_v5() {
            self.properties.encoded_len()
        } else {
            0
        }
    }

    pub(crate) fn write(&self, v: ProtocolVersion, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        super::require_v5(v, !self.properties.is_empty(), "CONNACK properties")?;
        if self.session_present && v == ProtocolVersion::V3_1 {
            // 3.1's acknowledge flags byte is reserved: no Session Present.
            return Err(EncodeError::NotInVersion {
                what: "Session Present",
                version: v,
            });
        }
        w.u8("connect acknowledge flags", u8::from(self.session_present));
        let code = if v.is_v5() {
            self.reason_code.0
        } else {
            self.reason_code
                .to_v3_connack()
                .ok_or(EncodeError::NotInVersion {
                    what: "this CONNACK reason code",
                    version: v,
                })?
        };
        w.u8("reason code", code);
        if v.is_v5() {
            self.properties.write("properties", w)?;
        }
        Ok(())
    }
}
