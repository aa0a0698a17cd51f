//! UTF-8 Encoded String (3.1.1 §1.5.3, 5.0 §1.5.4), held without copying.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;

use bytes::Bytes;

/// An MQTT UTF-8 string: well-formed UTF-8 without U+0000, at most 65,535 bytes when it
/// came off the wire. Backed by [`Bytes`], so decoding slices the packet instead of copying.
///
/// The invariant "the bytes are valid UTF-8" is upheld by every constructor; strings that
/// break the rules on purpose are written with [`crate::malformed`], never held here.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MqttString(Bytes);

/// Why bytes are not an MQTT UTF-8 string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StringProblem {
    /// Not well-formed UTF-8: invalid sequences, overlong forms or surrogates
    /// (MQTT-1.5.3-1 / MQTT-1.5.4-1).
    IllFormed,
    /// Contains U+0000 (MQTT-1.5.3-2 / MQTT-1.5.4-2).
    NullCharacter,
}

impl MqttString {
    pub const fn from_static(s: &'static str) -> Self {
        MqttString(Bytes::from_static(s.as_bytes()))
    }

    /// Checks the MQTT string rules on bytes taken from a packet.
    #[inline]
    pub(crate) fn from_wire(bytes: Bytes) -> Result<Self, StringProblem> {
        // Fast path: ASCII without NUL is valid, and most topics and ids are that.
        let unusual = bytes
            .iter()
            .fold(false, |acc, &b| acc | (b == 0) | (b >= 0x80));
        if !unusual {
            return Ok(MqttString(bytes));
        }
        // Rust's UTF-8 validation already rejects overlong forms and encoded surrogates.
        std::str::from_utf8(&bytes).map_err(|_| StringProblem::IllFormed)?;
        // In UTF-8 the byte 0x00 only ever encodes U+0000.
        if bytes.contains(&0) {
            return Err(StringProblem::NullCharacter);
        }
        Ok(MqttString(bytes))
    }

    pub fn as_str(&self) -> &str {
        // SAFETY: every constructor checked (or was given) valid UTF-8, and `Bytes` is
        // immutable.
        unsafe { std::str::from_utf8_unchecked(&self.0) }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The underlying buffer, shared with the packet it was decoded from.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Deref for MqttString {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for MqttString {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for MqttString {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for MqttString {
    fn from(s: &str) -> Self {
        MqttString(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl From<String> for MqttString {
    fn from(s: String) -> Self {
        MqttString(Bytes::from(s))
    }
}

impl From<&String> for MqttString {
    fn from(s: &String) -> Self {
        MqttString::from(s.as_str())
    }
}

impl PartialEq<str> for MqttString {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for MqttString {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Debug for MqttString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for MqttString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for MqttString {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let s: String = u.arbitrary()?;
        // Keep to what the wire can carry: no U+0000, at most 65,535 bytes.
        let mut s: String = s.chars().filter(|&c| c != '\0').collect();
        while s.len() > 65_535 {
            s.pop();
        }
        Ok(MqttString::from(s))
    }
}

/// `arbitrary` support for the `Bytes` fields of packets.
#[cfg(feature = "arbitrary")]
pub(crate) fn arbitrary_bytes(u: &mut arbitrary::Unstructured<'_>) -> arbitrary::Result<Bytes> {
    let v: Vec<u8> = u.arbitrary()?;
    Ok(Bytes::from(v))
}

#[cfg(feature = "arbitrary")]
pub(crate) fn arbitrary_opt_bytes(
    u: &mut arbitrary::Unstructured<'_>,
) -> arbitrary::Result<Option<Bytes>> {
    Ok(if u.arbitrary()? {
        Some(arbitrary_bytes(u)?)
    } else {
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_bom_and_keeps_it() {
        // MQTT-1.5.3-3 / MQTT-1.5.4-3: U+FEFF is not stripped.
        let s = MqttString::from_wire(Bytes::from_static(b"\xEF\xBB\xBFa")).expect("valid");
        assert_eq!(s.as_bytes(), b"\xEF\xBB\xBFa");
    }

    #[test]
    fn rejects_surrogates_overlong_forms_and_nul() {
        for bad in [&b"\xED\xA0\x80"[..], b"\xC0\xAF", b"\xFF", b"a\xE2\x82"] {
            assert_eq!(
                MqttString::from_wire(Bytes::copy_from_slice(bad)),
                Err(StringProblem::IllFormed),
                "{bad:?}"
            );
        }
        assert_eq!(
            MqttString::from_wire(Bytes::from_static(b"a\0b")),
            Err(StringProblem::NullCharacter)
        );
    }
}
