//! The built-in enhanced-authentication method (5.0 §4.12), so that AUTH flows and
//! re-authentication can be tested end to end.
//!
//! Method `MQTTSPEC-CHALLENGE`: the server sends AUTH 0x18 (Continue authentication) with
//! Authentication Data = a nonce; the client answers AUTH 0x18 with the nonce's bytes in
//! reverse order. A right answer completes the exchange (CONNACK 0x00, or AUTH 0x00 for a
//! re-authentication); a wrong one is refused with 0x87 (Not authorized).

use bytes::Bytes;
use mqttspec_codec::{Auth, MqttString, Packet, Properties, Property, ReasonCode};

pub const CHALLENGE_METHOD: &str = "MQTTSPEC-CHALLENGE";

pub enum Verdict {
    Accepted,
    Rejected(ReasonCode),
}

/// A nonce that differs per challenge (deterministic: this is a test method, not security).
pub fn nonce(counter: u64) -> Bytes {
    let mut x = counter.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    let mut out = Vec::with_capacity(16);
    for _ in 0..2 {
        x ^= x >> 31;
        x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        out.extend_from_slice(&x.to_be_bytes());
    }
    Bytes::from(out)
}

pub fn challenge(method: &MqttString, nonce: Bytes) -> Packet {
    Packet::Auth(Auth {
        reason_code: ReasonCode::CONTINUE_AUTHENTICATION,
        properties: Properties::new()
            .with(Property::AuthenticationMethod(method.clone()))
            .with(Property::AuthenticationData(nonce)),
    })
}

pub fn success(method: &MqttString) -> Packet {
    Packet::Auth(Auth {
        reason_code: ReasonCode::SUCCESS,
        properties: Properties::new().with(Property::AuthenticationMethod(method.clone())),
    })
}

/// Checks the client's answer to `nonce`.
pub fn verify(auth: &Auth, method: Option<&MqttString>, nonce: &[u8]) -> Verdict {
    // MQTT-4.12.0-5: every AUTH carries the same method as CONNECT.
    if auth.reason_code != ReasonCode::CONTINUE_AUTHENTICATION
        || auth.properties.authentication_method().as_ref() != method
    {
        return Verdict::Rejected(ReasonCode::PROTOCOL_ERROR);
    }
    let expected: Vec<u8> = nonce.iter().rev().copied().collect();
    match auth.properties.authentication_data() {
        Some(answer) if answer[..] == expected[..] => Verdict::Accepted,
        _ => Verdict::Rejected(ReasonCode::NOT_AUTHORIZED),
    }
}
