//! Matching what the broker sent against what a scenario expects.
//!
//! A received packet is viewed as a tree of fields ([`View`]) named as scenarios write
//! them; a pattern lists the fields it cares about. Omitted fields are don't-care;
//! `"$name"` captures a value (or, once captured, must equal it); `{any_of: [..]}` accepts
//! alternatives; `properties` must appear in the given order among the packet's properties
//! (others may sit between); `absent_properties` must not appear at all.

use std::collections::BTreeMap;
use std::fmt;

use mqttspec_codec::properties::PropertyValue;
use mqttspec_codec::{Packet, Properties, ProtocolVersion, QoS};
use serde_yaml::{Mapping, Value};

use super::Bin;

/// A received packet's fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum View {
    Bool(bool),
    Int(i64),
    Str(String),
    Bytes(Vec<u8>),
    List(Vec<View>),
    Map(Vec<(String, View)>),
}

impl fmt::Display for View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            View::Bool(b) => write!(f, "{b}"),
            View::Int(i) => write!(f, "{i}"),
            View::Str(s) => write!(f, "{s:?}"),
            View::Bytes(b) => write!(f, "{}", Bin(b.clone())),
            View::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            View::Map(fields) => {
                f.write_str("{")?;
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}: {v}")?;
                }
                f.write_str("}")
            }
        }
    }
}

/// The packet kind key scenarios use (`puback`, `connack`, …).
pub fn kind(p: &Packet) -> &'static str {
    match p {
        Packet::Connect(_) => "connect",
        Packet::ConnAck(_) => "connack",
        Packet::Publish(_) => "publish",
        Packet::PubAck(_) => "puback",
        Packet::PubRec(_) => "pubrec",
        Packet::PubRel(_) => "pubrel",
        Packet::PubComp(_) => "pubcomp",
        Packet::Subscribe(_) => "subscribe",
        Packet::SubAck(_) => "suback",
        Packet::Unsubscribe(_) => "unsubscribe",
        Packet::UnsubAck(_) => "unsuback",
        Packet::PingReq => "pingreq",
        Packet::PingResp => "pingresp",
        Packet::Disconnect(_) => "disconnect",
        Packet::Auth(_) => "auth",
    }
}

/// Fields a pattern may name for each packet kind the broker sends.
pub fn known_fields(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "connack" => &[
            "session_present",
            "reason_code",
            "return_code",
            "properties",
            "absent_properties",
        ],
        "publish" => &[
            "topic",
            "qos",
            "retain",
            "dup",
            "packet_id",
            "payload",
            "payload_size",
            "properties",
            "absent_properties",
        ],
        "puback" | "pubrec" | "pubrel" | "pubcomp" | "disconnect" | "auth" => &[
            "packet_id",
            "reason_code",
            "properties",
            "absent_properties",
        ],
        "suback" | "unsuback" => &[
            "packet_id",
            "reason_codes",
            "properties",
            "absent_properties",
        ],
        "pingresp" => &[],
        _ => return None,
    })
}

fn props(p: &Properties) -> View {
    View::List(
        p.iter()
            .map(|prop| {
                let name = prop.id().name().replace(' ', "_");
                let value = match prop.value() {
                    PropertyValue::Byte(v) => View::Int(v.into()),
                    PropertyValue::TwoByteInteger(v) => View::Int(v.into()),
                    PropertyValue::FourByteInteger(v) | PropertyValue::VariableByteInteger(v) => {
                        View::Int(v.into())
                    }
                    PropertyValue::Utf8String(s) => View::Str(s.to_string()),
                    PropertyValue::BinaryData(b) => View::Bytes(b.to_vec()),
                    PropertyValue::Utf8StringPair(k, v) => {
                        View::List(vec![View::Str(k.to_string()), View::Str(v.to_string())])
                    }
                };
                View::Map(vec![(name, value)])
            })
            .collect(),
    )
}

/// The fields of a received packet.
pub fn view(p: &Packet, v: ProtocolVersion) -> View {
    let int = |x: u64| View::Int(x as i64);
    let mut fields: Vec<(&str, View)> = Vec::new();
    match p {
        Packet::ConnAck(c) => {
            fields.push(("session_present", View::Bool(c.session_present)));
            if v.is_v5() {
                fields.push(("reason_code", int(c.reason_code.0.into())));
            } else {
                let code = c.reason_code.to_v3_connack().map_or(c.reason_code.0, |c| c);
                fields.push(("return_code", int(code.into())));
            }
            fields.push(("properties", props(&c.properties)));
        }
        Packet::Publish(p) => {
            fields.push(("topic", View::Str(p.topic.to_string())));
            fields.push(("qos", int(p.qos.as_u8().into())));
            fields.push(("retain", View::Bool(p.retain)));
            fields.push(("dup", View::Bool(p.dup)));
            if p.qos != QoS::AtMostOnce {
                fields.push(("packet_id", int(p.packet_id.into())));
            }
            fields.push(("payload", View::Bytes(p.payload.to_vec())));
            fields.push(("payload_size", int(p.payload.len() as u64)));
            fields.push(("properties", props(&p.properties)));
        }
        Packet::PubAck(a) | Packet::PubRec(a) | Packet::PubRel(a) | Packet::PubComp(a) => {
            fields.push(("packet_id", int(a.packet_id.into())));
            fields.push(("reason_code", int(a.reason_code.0.into())));
            fields.push(("properties", props(&a.properties)));
        }
        Packet::SubAck(s) => {
            fields.push(("packet_id", int(s.packet_id.into())));
            fields.push((
                "reason_codes",
                View::List(s.reason_codes.iter().map(|c| int(c.0.into())).collect()),
            ));
            fields.push(("properties", props(&s.properties)));
        }
        Packet::UnsubAck(s) => {
            fields.push(("packet_id", int(s.packet_id.into())));
            fields.push((
                "reason_codes",
                View::List(s.reason_codes.iter().map(|c| int(c.0.into())).collect()),
            ));
            fields.push(("properties", props(&s.properties)));
        }
        Packet::Disconnect(d) => {
            fields.push(("reason_code", int(d.reason_code.0.into())));
            fields.push(("properties", props(&d.properties)));
        }
        Packet::Auth(a) => {
            fields.push(("reason_code", int(a.reason_code.0.into())));
            fields.push(("properties", props(&a.properties)));
        }
        Packet::Connect(_)
        | Packet::Subscribe(_)
        | Packet::Unsubscribe(_)
        | Packet::PingReq
        | Packet::PingResp => {}
    }
    View::Map(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// Variables captured so far.
pub type Vars = BTreeMap<String, View>;

/// Matching state: the variables, and how to interpolate pattern strings.
pub struct Matcher<'a> {
    pub vars: &'a mut Vars,
    pub interpolate: &'a dyn Fn(&str) -> String,
}

impl Matcher<'_> {
    /// Does `actual` match `pattern`? On success new captures are kept; on failure the
    /// reason names the field.
    pub fn matches(&mut self, path: &str, pattern: &Value, actual: &View) -> Result<(), String> {
        let snapshot = self.vars.clone();
        let result = self.match_value(path, pattern, actual);
        if result.is_err() {
            *self.vars = snapshot;
        }
        result
    }

    fn match_value(&mut self, path: &str, pattern: &Value, actual: &View) -> Result<(), String> {
        let mismatch =
            |expected: &dyn fmt::Display| Err(format!("{path}: expected {expected}, got {actual}"));
        match pattern {
            Value::String(s) if s.starts_with('$') => {
                let name = &s[1..];
                match self.vars.get(name) {
                    Some(bound) if bound == actual => Ok(()),
                    Some(bound) => mismatch(&format_args!("{bound} (${name})")),
                    None => {
                        self.vars.insert(name.to_owned(), actual.clone());
                        Ok(())
                    }
                }
            }
            Value::String(s) => {
                let s = (self.interpolate)(s);
                match actual {
                    View::Str(a) if *a == s => Ok(()),
                    View::Bytes(b) if Bin::parse(&s).is_ok_and(|bin| bin.0 == *b) => Ok(()),
                    _ => mismatch(&format_args!("{s:?}")),
                }
            }
            Value::Number(n) => match (n.as_i64(), actual) {
                (Some(x), View::Int(a)) if x == *a => Ok(()),
                _ => mismatch(n),
            },
            Value::Bool(b) => match actual {
                View::Bool(a) if a == b => Ok(()),
                _ => mismatch(b),
            },
            Value::Sequence(items) => match actual {
                View::List(a) if a.len() == items.len() => {
                    for (i, (p, x)) in items.iter().zip(a).enumerate() {
                        self.match_value(&format!("{path}[{i}]"), p, x)?;
                    }
                    Ok(())
                }
                _ => mismatch(&format_args!("a list of {}", items.len())),
            },
            Value::Mapping(m) if m.contains_key("any_of") => {
                let Some(Value::Sequence(alternatives)) = m.get("any_of") else {
                    return Err(format!("{path}: any_of takes a list"));
                };
                for alternative in alternatives {
                    if self.matches(path, alternative, actual).is_ok() {
                        return Ok(());
                    }
                }
                mismatch(&format_args!(
                    "any of {}",
                    serde_yaml::to_string(alternatives)
                        .unwrap_or_default()
                        .trim()
                ))
            }
            Value::Mapping(m) if m.contains_key("not") => {
                let inner = m.get("not").unwrap_or(&Value::Null);
                let mut probe = Matcher {
                    vars: &mut self.vars.clone(),
                    interpolate: self.interpolate,
                };
                match probe.match_value(path, inner, actual) {
                    Ok(()) => Err(format!(
                        "{path}: expected anything but {}, got {actual}",
                        yaml(inner)
                    )),
                    Err(_) => Ok(()),
                }
            }
            Value::Mapping(m) => self.match_fields(path, m, actual),
            Value::Null => Ok(()),
            Value::Tagged(_) => Err(format!("{path}: YAML tags are not patterns")),
        }
    }

    fn match_fields(&mut self, path: &str, pattern: &Mapping, actual: &View) -> Result<(), String> {
        let View::Map(fields) = actual else {
            return Err(format!("{path}: expected fields, got {actual}"));
        };
        for (key, p) in pattern {
            let key = key.as_str().unwrap_or_default();
            let here = if path.is_empty() {
                key.to_owned()
            } else {
                format!("{path}.{key}")
            };
            let field = fields.iter().find(|(k, _)| k == key).map(|(_, v)| v);
            match (key, field) {
                ("properties", Some(View::List(props))) => {
                    self.match_properties(&here, p, props)?
                }
                ("absent_properties", _) => {
                    let Some(View::List(props)) = fields
                        .iter()
                        .find(|(k, _)| k == "properties")
                        .map(|(_, v)| v)
                    else {
                        continue;
                    };
                    for name in p
                        .as_sequence()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                    {
                        if props.iter().any(|prop| matches!(prop, View::Map(kv) if kv.iter().any(|(k, _)| k == name))) {
                            return Err(format!("{here}: {name} present, must be absent"));
                        }
                    }
                }
                (_, Some(value)) => self.match_value(&here, p, value)?,
                (_, None) => return Err(format!("{here}: absent from the packet")),
            }
        }
        Ok(())
    }

    /// Each pattern property must be found, in order, among the packet's properties.
    fn match_properties(
        &mut self,
        path: &str,
        pattern: &Value,
        props: &[View],
    ) -> Result<(), String> {
        let Some(wanted) = pattern.as_sequence() else {
            return Err(format!("{path}: properties are a list of {{name: value}}"));
        };
        let mut from = 0;
        for w in wanted {
            let Some((name, value)) = w.as_mapping().and_then(|m| m.iter().next()) else {
                return Err(format!("{path}: each property is {{name: value}}"));
            };
            let name = name.as_str().unwrap_or_default();
            let found = props.iter().enumerate().skip(from).find_map(|(i, prop)| {
                let View::Map(kv) = prop else { return None };
                let (k, v) = kv.first()?;
                if k != name {
                    return None;
                }
                let mut trial = Matcher {
                    vars: &mut self.vars.clone(),
                    interpolate: self.interpolate,
                };
                trial.match_value(path, value, v).ok().map(|()| i)
            });
            match found {
                Some(i) => {
                    // Bind captures for real.
                    if let View::Map(kv) = &props[i]
                        && let Some((_, v)) = kv.first()
                    {
                        self.match_value(path, value, v)?;
                    }
                    from = i + 1;
                }
                None => {
                    return Err(format!(
                        "{path}: expected {name}: {} (in this order), got {}",
                        yaml(value),
                        View::List(props.to_vec())
                    ));
                }
            }
        }
        Ok(())
    }
}

fn yaml(v: &Value) -> String {
    serde_yaml::to_string(v)
        .unwrap_or_default()
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mqttspec_codec::{Property, Publish};

    fn check(pattern: &str, packet: &Packet, vars: &mut Vars) -> Result<(), String> {
        let pattern: Value = serde_yaml::from_str(pattern).expect("yaml");
        let interpolate = |s: &str| s.replace("{prefix}", "p");
        let mut m = Matcher {
            vars,
            interpolate: &interpolate,
        };
        m.matches("publish", &pattern, &view(packet, ProtocolVersion::V5))
    }

    fn publish() -> Packet {
        let mut p = Publish::new("p/t", QoS::AtLeastOnce, "hi");
        p.packet_id = 9;
        p.properties = Properties::new()
            .with(Property::UserProperty("a".into(), "1".into()))
            .with(Property::ContentType("c".into()))
            .with(Property::UserProperty("b".into(), "2".into()));
        Packet::Publish(p)
    }

    #[test]
    fn omitted_fields_are_dont_care_and_strings_interpolate() {
        assert_eq!(
            check(
                "{topic: '{prefix}/t', qos: 1}",
                &publish(),
                &mut Vars::new()
            ),
            Ok(())
        );
        let err = check("{qos: 2}", &publish(), &mut Vars::new()).unwrap_err();
        assert_eq!(err, "publish.qos: expected 2, got 1");
    }

    #[test]
    fn captures_bind_then_compare() {
        let mut vars = Vars::new();
        check("{packet_id: $pid}", &publish(), &mut vars).expect("binds");
        assert_eq!(vars.get("pid"), Some(&View::Int(9)));
        check("{packet_id: $pid}", &publish(), &mut vars).expect("equal");
        vars.insert("pid".into(), View::Int(3));
        assert!(check("{packet_id: $pid}", &publish(), &mut vars).is_err());
    }

    #[test]
    fn properties_match_in_order_with_others_between() {
        let ok = "{properties: [{user_property: [a, '1']}, {user_property: [b, '2']}]}";
        assert_eq!(check(ok, &publish(), &mut Vars::new()), Ok(()));
        let reversed = "{properties: [{user_property: [b, '2']}, {user_property: [a, '1']}]}";
        assert!(check(reversed, &publish(), &mut Vars::new()).is_err());
        assert!(
            check(
                "{absent_properties: [content_type]}",
                &publish(),
                &mut Vars::new()
            )
            .is_err()
        );
        assert!(
            check(
                "{absent_properties: [topic_alias]}",
                &publish(),
                &mut Vars::new()
            )
            .is_ok()
        );
    }

    #[test]
    fn any_of_and_not() {
        assert!(check("{qos: {any_of: [1, 2]}}", &publish(), &mut Vars::new()).is_ok());
        assert!(check("{qos: {any_of: [0, 2]}}", &publish(), &mut Vars::new()).is_err());
        assert!(check("{packet_id: {not: 0}}", &publish(), &mut Vars::new()).is_ok());
        assert!(check("{packet_id: {not: 9}}", &publish(), &mut Vars::new()).is_err());
    }

    #[test]
    fn binary_fields_compare_as_bytes() {
        assert!(check("{payload: hi}", &publish(), &mut Vars::new()).is_ok());
        assert!(check("{payload: 'hex:68 69'}", &publish(), &mut Vars::new()).is_ok());
        assert!(check("{payload: ho}", &publish(), &mut Vars::new()).is_err());
    }
}
