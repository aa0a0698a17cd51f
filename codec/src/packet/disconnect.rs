//! DISCONNECT – Disconnect notification (3.1.1 §3.14, 5.0 §3.14).

use crate::error::{DecodeError, EncodeError, ErrorKind};
use crate::packet::PacketType;
use crate::properties::{Properties, PropertyContext};
use crate::reader::Reader;
use crate::reason::ReasonCode;
use crate::types::ProtocolVersion;
use crate::writer::Writer;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Disconnect {
    /// 5.0 only; Normal disconnection under 3.1/3.1.1.
    pub reason_code: ReasonCode,
    pub properties: Properties,
}

impl Disconnect {
    pub fn new(reason_code: ReasonCode) -> Self {
        Disconnect {
            reason_code,
            properties: Properties::new(),
        }
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Disconnect, DecodeError> {
        let mut d = Disconnect::default();
        if r.version.is_v5() {
            // "If the Remaining Length is less than 1 the value of 0x00 (Normal
            // disconnection) is used"; with less than 2, the Property Length is 0.
            if !r.is_empty() {
                let at = r.position();
                let code = r.u8("reason code")?;
                // MQTT-3.14.2-1
                if !ReasonCode(code).allowed_in(PacketType::Disconnect) {
                    return Err(r.error_at(
                        ErrorKind::InvalidReasonCode {
                            packet_type: PacketType::Disconnect,
                            code,
                        },
                        at,
                    ));
                }
                d.reason_code = ReasonCode(code);
            }
            if !r.is_empty() {
                d.properties =
                    Properties::read(r, PropertyContext::Packet(PacketType::Disconnect))?;
            }
        }
        r.finish()?;
        Ok(d)
    }

    pub(crate) fn body_len(&self, v: ProtocolVersion) -> usize {
        if !v.is_v5() {
            0
        } else if !self.properties.is_empty() {
            1 + self.properties.encoded_len()
        } else if self.reason_code != ReasonCode::NORMAL_DISCONNECTION {
            1
        } else {
            0
        }
    }

    pub(crate) fn write(&self, v: ProtocolVersion, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        super::require_v5(v, !self.properties.is_empty(), "DISCONNECT properties")?;
        super::require_v5(
            v,
            self.reason_code != ReasonCode::NORMAL_DISCONNECTION,
            "a DISCONNECT reason code",
        )?;
        let len = self.body_len(v);
        if len >= 1 {
            w.u8("reason code", self.reason_code.0);
        }
        if len > 1 {
            self.properties.write("properties", w)?;
        }
        Ok(())
    }
}
