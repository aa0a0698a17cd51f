//! AUTH – Authentication exchange (5.0 §3.15). Not part of 3.1/3.1.1, where type 15 is
//! reserved.

use crate::error::{DecodeError, EncodeError, ErrorKind};
use crate::packet::PacketType;
use crate::properties::{Properties, PropertyContext};
use crate::reader::Reader;
use crate::reason::ReasonCode;
use crate::writer::Writer;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Auth {
    pub reason_code: ReasonCode,
    pub properties: Properties,
}

impl Auth {
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Auth, DecodeError> {
        let mut auth = Auth::default();
        // "The Reason Code and Property Length can be omitted if the Reason Code is 0x00
        // (Success) and there are no Properties": Remaining Length 0.
        if !r.is_empty() {
            let at = r.position();
            let code = r.u8("reason code")?;
            // MQTT-3.15.2-1
            if !ReasonCode(code).allowed_in(PacketType::Auth) {
                return Err(r.error_at(
                    ErrorKind::InvalidReasonCode {
                        packet_type: PacketType::Auth,
                        code,
                    },
                    at,
                ));
            }
            auth.reason_code = ReasonCode(code);
        }
        if !r.is_empty() {
            auth.properties = Properties::read(r, PropertyContext::Packet(PacketType::Auth))?;
        }
        r.finish()?;
        Ok(auth)
    }

    pub(crate) fn body_len(&self) -> usize {
        if self.reason_code == ReasonCode::SUCCESS && self.properties.is_empty() {
            0
        } else {
            1 + self.properties.encoded_len()
        }
    }

    pub(crate) fn write(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        if self.body_len() > 0 {
            w.u8("reason code", self.reason_code.0);
            self.properties.write("properties", w)?;
        }
        Ok(())
    }
}
