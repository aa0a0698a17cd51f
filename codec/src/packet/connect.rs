//! CONNECT – Connection Request (3.1.1 §3.1, 5.0 §3.1).

use bytes::Bytes;

use super::FixedHeader;
use crate::error::{DecodeError, EncodeError, ErrorKind};
use crate::packet::PacketType;
use crate::properties::{Properties, PropertyContext};
use crate::reader::Reader;
use crate::string::MqttString;
use crate::topic;
use crate::types::{ProtocolVersion, QoS};
use crate::writer::{Writer, prefixed_len};

#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Connect {
    /// Protocol name and level: the packet says which version the connection speaks.
    pub protocol: ProtocolVersion,
    /// Clean Session (3.1.1) / Clean Start (5.0).
    pub clean_start: bool,
    /// Keep Alive in seconds; 0 turns it off.
    pub keep_alive: u16,
    pub properties: Properties,
    pub client_id: MqttString,
    pub will: Option<Will>,
    pub username: Option<MqttString>,
    #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::string::arbitrary_opt_bytes))]
    pub password: Option<Bytes>,
}

/// The Will Message carried in CONNECT.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Will {
    pub topic: MqttString,
    #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::string::arbitrary_bytes))]
    pub payload: Bytes,
    pub qos: QoS,
    pub retain: bool,
    /// Will Properties (5.0 §3.1.3.2).
    pub properties: Properties,
}

impl Default for Connect {
    fn default() -> Self {
        Connect {
            protocol: ProtocolVersion::V5,
            clean_start: true,
            keep_alive: 60,
            properties: Properties::new(),
            client_id: MqttString::default(),
            will: None,
            username: None,
            password: None,
        }
    }
}

const USERNAME: u8 = 0x80;
const PASSWORD: u8 = 0x40;
const WILL_RETAIN: u8 = 0x20;
const WILL_QOS_SHIFT: u8 = 3;
const WILL_FLAG: u8 = 0x04;
const CLEAN_START: u8 = 0x02;
const RESERVED: u8 = 0x01;

impl Connect {
    pub(crate) fn decode(header: &FixedHeader, r: &mut Reader<'_>) -> Result<Connect, DecodeError> {
        // §3.1.2.1 Protocol Name, §3.1.2.2 Protocol Level.
        let name_at = r.position();
        let name = r.binary("protocol name")?;
        let level_at = r.position();
        let level = r.u8("protocol level")?;
        let protocol = match (&name[..], level) {
            (b"MQTT", 4) => ProtocolVersion::V3_1_1,
            (b"MQTT", 5) => ProtocolVersion::V5,
            (b"MQIsdp", 3) => ProtocolVersion::V3_1,
            // MQTT-3.1.2-2: a known name with a level the server does not speak.
            (b"MQTT" | b"MQIsdp", _) => {
                return Err(r.error_at(ErrorKind::UnsupportedProtocolLevel(level), level_at));
            }
            // MQTT-3.1.2-1
            _ => return Err(r.error_at(ErrorKind::InvalidProtocolName, name_at)),
        };
        // From here on the packet's own version decides the rules.
        r.version = protocol;
        // MQTT-1.5.5-1 for the Remaining Length, now that the version is known.
        if protocol.is_v5() && !header.minimal_length {
            return Err(r.error_at(
                ErrorKind::VarIntNotMinimal {
                    field: "remaining length",
                },
                1,
            ));
        }

        let flags_at = r.position();
        let flags = r.u8("connect flags")?;
        let flag_error = |kind| Err(r.error_at(kind, flags_at));
        // MQTT-3.1.2-3
        if flags & RESERVED != 0 {
            return flag_error(ErrorKind::ConnectReservedFlag);
        }
        let will_flag = flags & WILL_FLAG != 0;
        let will_qos_bits = (flags >> WILL_QOS_SHIFT) & 0b11;
        let will_retain = flags & WILL_RETAIN != 0;
        if !will_flag {
            // MQTT-3.1.2-13 / MQTT-3.1.2-11 (5.0)
            if will_qos_bits != 0 {
                return flag_error(ErrorKind::WillQoSWithoutWill);
            }
            // MQTT-3.1.2-15 / MQTT-3.1.2-13 (5.0)
            if will_retain {
                return flag_error(ErrorKind::WillRetainWithoutWill);
            }
        }
        // MQTT-3.1.2-14 / MQTT-3.1.2-12 (5.0)
        let Some(will_qos) = QoS::from_u8(will_qos_bits) else {
            return flag_error(ErrorKind::WillQoS3);
        };
        let has_username = flags & USERNAME != 0;
        let has_password = flags & PASSWORD != 0;
        // MQTT-3.1.2-22: 3.1.1 forbids a password without a user name; 5.0 allows it.
        if has_password && !has_username && !protocol.is_v5() {
            return flag_error(ErrorKind::PasswordWithoutUsername);
        }

        let keep_alive = r.u16("keep alive")?;
        let properties = if protocol.is_v5() {
            Properties::read(r, PropertyContext::Packet(PacketType::Connect))?
        } else {
            Properties::new()
        };

        // §3.1.3: Client Identifier, [Will Properties, Will Topic, Will Payload], User Name,
        // Password, in that order (MQTT-3.1.3-1).
        let client_id = r.string("client identifier")?;
        let will = if will_flag {
            let properties = if protocol.is_v5() {
                Properties::read(r, PropertyContext::Will)?
            } else {
                Properties::new()
            };
            let topic_at = r.position();
            let topic = r.string("will topic")?;
            topic::validate_topic_name(&topic)
                .map_err(|e| r.error_at(ErrorKind::TopicName(e), topic_at))?;
            let payload = r.binary("will payload")?;
            Some(Will {
                topic,
                payload,
                qos: will_qos,
                retain: will_retain,
                properties,
            })
        } else {
            None
        };
        let username = if has_username {
            Some(r.string("user name")?)
        } else {
            None
        };
        let password = if has_password {
            Some(r.binary("password")?)
        } else {
            None
        };
        r.finish()?;
        Ok(Connect {
            protocol,
            clean_start: flags & CLEAN_START != 0,
            keep_alive,
            properties,
            client_id,
            will,
            username,
            password,
        })
    }

    fn flags(&self) -> u8 {
        let mut flags = 0;
        if self.username.is_some() {
            flags |= USERNAME;
        }
        if self.password.is_some() {
            flags |= PASSWORD;
        }
        if let Some(will) = &self.will {
            flags |= WILL_FLAG | (will.qos.as_u8() << WILL_QOS_SHIFT);
            if will.retain {
                flags |= WILL_RETAIN;
            }
        }
        if self.clean_start {
            flags |= CLEAN_START;
        }
        flags
    }

    pub(crate) fn body_len(&self) -> usize {
        let v5 = self.protocol.is_v5();
        let mut len = prefixed_len(self.protocol.protocol_name().len()) + 1 + 1 + 2;
        if v5 {
            len += self.properties.encoded_len();
        }
        len += prefixed_len(self.client_id.len());
        if let Some(will) = &self.will {
            if v5 {
                len += will.properties.encoded_len();
            }
            len += prefixed_len(will.topic.len()) + prefixed_len(will.payload.len());
        }
        len += self.username.as_ref().map_or(0, |u| prefixed_len(u.len()));
        len += self.password.as_ref().map_or(0, |p| prefixed_len(p.len()));
        len
    }

    pub(crate) fn write(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        let v = self.protocol;
        super::require_v5(v, !self.properties.is_empty(), "CONNECT properties")?;
        super::require_v5(
            v,
            self.will
                .as_ref()
                .is_some_and(|will| !will.properties.is_empty()),
            "Will properties",
        )?;
        w.string("protocol name", v.protocol_name())?;
        w.u8("protocol level", v.level());
        w.u8("connect flags", self.flags());
        w.u16("keep alive", self.keep_alive);
        if v.is_v5() {
            self.properties.write("properties", w)?;
        }
        w.string("client identifier", &self.client_id)?;
        if let Some(will) = &self.will {
            if v.is_v5() {
                will.properties.write("will properties", w)?;
            }
            w.string("will topic", &will.topic)?;
            w.binary("will payload", &will.payload)?;
        }
        if let Some(username) = &self.username {
            w.string("user name", username)?;
        }
        if let Some(password) = &self.password {
            w.binary("password", password)?;
        }
        Ok(())
    }
}
