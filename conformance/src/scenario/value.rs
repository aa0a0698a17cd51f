//! Scalar forms scenarios use: values that may be variables, and binary data.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer};

/// A literal, or `"$name"`: a variable captured by an earlier `expect` (e.g. the packet
/// identifier of a delivered PUBLISH), resolved when the step runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Var<T> {
    Lit(T),
    Ref(String),
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Var<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_yaml::Value::deserialize(d)?;
        if let serde_yaml::Value::String(s) = &value
            && let Some(name) = s.strip_prefix('$')
        {
            return Ok(Var::Ref(name.to_owned()));
        }
        serde_yaml::from_value(value)
            .map(Var::Lit)
            .map_err(de::Error::custom)
    }
}

/// Binary data written as text: `"hex:0a ff"` for bytes, anything else for its UTF-8
/// bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bin(pub Vec<u8>);

impl Bin {
    pub fn parse(s: &str) -> Result<Bin, String> {
        match s.strip_prefix("hex:") {
            Some(hex) => mqttspec_codec::render::parse_hex(hex).map(Bin),
            None => Ok(Bin(s.as_bytes().to_vec())),
        }
    }
}

impl<'de> Deserialize<'de> for Bin {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Bin::parse(&s).map_err(de::Error::custom)
    }
}

impl fmt::Display for Bin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match std::str::from_utf8(&self.0) {
            Ok(s) => f.write_str(s),
            Err(_) => write!(f, "hex:{}", mqttspec_codec::render::hex(&self.0)),
        }
    }
}
