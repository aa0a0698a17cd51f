//! Properties (5.0 §2.2.2): the table of all 27, what packets may carry each, and the
//! property block codec.
//!
//! A [`Properties`] keeps properties in wire order, duplicates and all: the decoder rejects
//! what the spec forbids, but the encoder writes whatever it is given, so scenarios can send
//! duplicated or misplaced properties on purpose.

use std::fmt;

use bytes::Bytes;

use crate::error::{DecodeError, EncodeError, ErrorKind};
use crate::packet::PacketType;
use crate::reader::Reader;
use crate::string::MqttString;
use crate::writer::{SpanKind, Writer, prefixed_len};
use crate::{topic, varint};

/// Where a property block sits: in a packet, or in CONNECT's Will Properties.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PropertyContext {
    Packet(PacketType),
    Will,
}

impl PropertyContext {
    /// Bit in [`PropertyId::allowed_in`]'s mask: the packet type number, or 0 for Will.
    fn bit(self) -> u16 {
        match self {
            PropertyContext::Packet(t) => 1 << (t as u16),
            PropertyContext::Will => 1,
        }
    }
}

/// The data type of a property value (§1.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    Byte,
    TwoByteInteger,
    FourByteInteger,
    VariableByteInteger,
    Utf8String,
    BinaryData,
    Utf8StringPair,
}

macro_rules! property_table {
    ($( $variant:ident = $id:literal, $name:literal, $ty:ident, [$($ctx:ident),*]; )*) => {
        /// A property identifier (5.0 table 2-4).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
        #[repr(u8)]
        pub enum PropertyId { $( $variant = $id, )* }

        impl PropertyId {
            pub const ALL: [PropertyId; 27] = [$( PropertyId::$variant, )*];

            pub fn from_u8(id: u8) -> Option<PropertyId> {
                match id { $( $id => Some(PropertyId::$variant), )* _ => None }
            }

            /// The spec's name, lower case: `"message expiry interval"`.
            pub fn name(self) -> &'static str {
                match self { $( PropertyId::$variant => $name, )* }
            }

            pub fn value_type(self) -> ValueType {
                match self { $( PropertyId::$variant => ValueType::$ty, )* }
            }

            /// Bit mask of the contexts that may carry it: bit n for packet type n, bit 0
            /// for Will Properties.
            fn allowed_mask(self) -> u16 {
                match self { $( PropertyId::$variant => 0 $( | ctx_bit!($ctx) )*, )* }
            }
        }
    };
}

macro_rules! ctx_bit {
    (Will) => {
        1u16
    };
    ($t:ident) => {
        1u16 << (PacketType::$t as u16)
    };
}

property_table! {
    PayloadFormatIndicator = 0x01, "payload format indicator", Byte, [Publish, Will];
    MessageExpiryInterval = 0x02, "message expiry interval", FourByteInteger, [Publish, Will];
    ContentType = 0x03, "content type", Utf8String, [Publish, Will];
    ResponseTopic = 0x08, "response topic", Utf8String, [Publish, Will];
    CorrelationData = 0x09, "correlation data", BinaryData, [Publish, Will];
    SubscriptionIdentifier = 0x0B, "subscription identifier", VariableByteInteger, [Publish, Subscribe];
    SessionExpiryInterval = 0x11, "session expiry interval", FourByteInteger, [Connect, ConnAck, Disconnect];
    AssignedClientIdentifier = 0x12, "assigned client identifier", Utf8String, [ConnAck];
    ServerKeepAlive = 0x13, "server keep alive", TwoByteInteger, [ConnAck];
    AuthenticationMethod = 0x15, "authentication method", Utf8String, [Connect, ConnAck, Auth];
    AuthenticationData = 0x16, "authentication data", BinaryData, [Connect, ConnAck, Auth];
    RequestProblemInformation = 0x17, "request problem information", Byte, [Connect];
    WillDelayInterval = 0x18, "will delay interval", FourByteInteger, [Will];
    RequestResponseInformation = 0x19, "request response information", Byte, [Connect];
    ResponseInformation = 0x1A, "response information", Utf8String, [ConnAck];
    ServerReference = 0x1C, "server reference", Utf8String, [ConnAck, Disconnect];
    ReasonString = 0x1F, "reason string", Utf8String,
        [ConnAck, PubAck, PubRec, PubRel, PubComp, SubAck, UnsubAck, Disconnect, Auth];
    ReceiveMaximum = 0x21, "receive maximum", TwoByteInteger, [Connect, ConnAck];
    TopicAliasMaximum = 0x22, "topic alias maximum", TwoByteInteger, [Connect, ConnAck];
    TopicAlias = 0x23, "topic alias", TwoByteInteger, [Publish];
    MaximumQoS = 0x24, "maximum qos", Byte, [ConnAck];
    RetainAvailable = 0x25, "retain available", Byte, [ConnAck];
    UserProperty = 0x26, "user property", Utf8StringPair,
        [Connect, ConnAck, Publish, Will, PubAck, PubRec, PubRel, PubComp, Subscribe, SubAck,
         Unsubscribe, UnsubAck, Disconnect, Auth];
    MaximumPacketSize = 0x27, "maximum packet size", FourByteInteger, [Connect, ConnAck];
    WildcardSubscriptionAvailable = 0x28, "wildcard subscription available", Byte, [ConnAck];
    SubscriptionIdentifierAvailable = 0x29, "subscription identifier available", Byte, [ConnAck];
    SharedSubscriptionAvailable = 0x2A, "shared subscription available", Byte, [ConnAck];
}

impl PropertyId {
    /// May a property block in `ctx` carry this property at all?
    pub fn allowed_in(self, ctx: PropertyContext) -> bool {
        self.allowed_mask() & ctx.bit() != 0
    }

    /// May it appear more than once there? User Property always; Subscription Identifier in
    /// PUBLISH (one per matching subscription, §3.3.2.3.8) but not in SUBSCRIBE (§3.8.2.1.2).
    pub fn repeatable_in(self, ctx: PropertyContext) -> bool {
        match self {
            PropertyId::UserProperty => true,
            PropertyId::SubscriptionIdentifier => {
                ctx == PropertyContext::Packet(PacketType::Publish)
            }
            _ => false,
        }
    }
}

impl fmt::Display for PropertyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({:#04x})", self.name(), *self as u8)
    }
}

/// One property with its value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Property {
    PayloadFormatIndicator(u8),
    MessageExpiryInterval(u32),
    ContentType(MqttString),
    ResponseTopic(MqttString),
    CorrelationData(
        #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::string::arbitrary_bytes))] Bytes,
    ),
    SubscriptionIdentifier(u32),
    SessionExpiryInterval(u32),
    AssignedClientIdentifier(MqttString),
    ServerKeepAlive(u16),
    AuthenticationMethod(MqttString),
    AuthenticationData(
        #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::string::arbitrary_bytes))] Bytes,
    ),
    RequestProblemInformation(u8),
    WillDelayInterval(u32),
    RequestResponseInformation(u8),
    ResponseInformation(MqttString),
    ServerReference(MqttString),
    ReasonString(MqttString),
    ReceiveMaximum(u16),
    TopicAliasMaximum(u16),
    TopicAlias(u16),
    MaximumQoS(u8),
    RetainAvailable(u8),
    UserProperty(MqttString, MqttString),
    MaximumPacketSize(u32),
    WildcardSubscriptionAvailable(u8),
    SubscriptionIdentifierAvailable(u8),
    SharedSubscriptionAvailable(u8),
}

/// The value of a property, by type, for generic handling (rendering, checks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PropertyValue<'a> {
    Byte(u8),
    TwoByteInteger(u16),
    FourByteInteger(u32),
    VariableByteInteger(u32),
    Utf8String(&'a MqttString),
    BinaryData(&'a Bytes),
    Utf8StringPair(&'a MqttString, &'a MqttString),
}

impl Property {
    pub fn id(&self) -> PropertyId {
        use Property as P;
        use PropertyId as I;
        match self {
            P::PayloadFormatIndicator(_) => I::PayloadFormatIndicator,
            P::MessageExpiryInterval(_) => I::MessageExpiryInterval,
            P::ContentType(_) => I::ContentType,
            P::ResponseTopic(_) => I::ResponseTopic,
            P::CorrelationData(_) => I::CorrelationData,
            P::SubscriptionIdentifier(_) => I::SubscriptionIdentifier,
            P::SessionExpiryInterval(_) => I::SessionExpiryInterval,
            P::AssignedClientIdentifier(_) => I::AssignedClientIdentifier,
            P::ServerKeepAlive(_) => I::ServerKeepAlive,
            P::AuthenticationMethod(_) => I::AuthenticationMethod,
            P::AuthenticationData(_) => I::AuthenticationData,
            P::RequestProblemInformation(_) => I::RequestProblemInformation,
            P::WillDelayInterval(_) => I::WillDelayInterval,
            P::RequestResponseInformation(_) => I::RequestResponseInformation,
            P::ResponseInformation(_) => I::ResponseInformation,
            P::ServerReference(_) => I::ServerReference,
            P::ReasonString(_) => I::ReasonString,
            P::ReceiveMaximum(_) => I::ReceiveMaximum,
            P::TopicAliasMaximum(_) => I::TopicAliasMaximum,
            P::TopicAlias(_) => I::TopicAlias,
            P::MaximumQoS(_) => I::MaximumQoS,
            P::RetainAvailable(_) => I::RetainAvailable,
            P::UserProperty(..) => I::UserProperty,
            P::MaximumPacketSize(_) => I::MaximumPacketSize,
            P::WildcardSubscriptionAvailable(_) => I::WildcardSubscriptionAvailable,
            P::SubscriptionIdentifierAvailable(_) => I::SubscriptionIdentifierAvailable,
            P::SharedSubscriptionAvailable(_) => I::SharedSubscriptionAvailable,
        }
    }

    pub fn value(&self) -> PropertyValue<'_> {
        use Property as P;
        use PropertyValue as V;
        match self {
            P::PayloadFormatIndicator(v)
            | P::RequestProblemInformation(v)
            | P::RequestResponseInformation(v)
            | P::MaximumQoS(v)
            | P::RetainAvailable(v)
            | P::WildcardSubscriptionAvailable(v)
            | P::SubscriptionIdentifierAvailable(v)
            | P::SharedSubscriptionAvailable(v) => V::Byte(*v),
            P::ServerKeepAlive(v)
            | P::ReceiveMaximum(v)
            | P::TopicAliasMaximum(v)
            | P::TopicAlias(v) => V::TwoByteInteger(*v),
            P::MessageExpiryInterval(v)
            | P::SessionExpiryInterval(v)
            | P::WillDelayInterval(v)
            | P::MaximumPacketSize(v) => V::FourByteInteger(*v),
            P::SubscriptionIdentifier(v) => V::VariableByteInteger(*v),
            P::ContentType(s)
            | P::ResponseTopic(s)
            | P::AssignedClientIdentifier(s)
            | P::AuthenticationMethod(s)
            | P::ResponseInformation(s)
            | P::ServerReference(s)
            | P::ReasonString(s) => V::Utf8String(s),
            P::CorrelationData(b) | P::AuthenticationData(b) => V::BinaryData(b),
            P::UserProperty(k, v) => V::Utf8StringPair(k, v),
        }
    }

    /// Bytes on the wire: identifier plus value.
    pub fn encoded_len(&self) -> usize {
        1 + match self.value() {
            PropertyValue::Byte(_) => 1,
            PropertyValue::TwoByteInteger(_) => 2,
            PropertyValue::FourByteInteger(_) => 4,
            PropertyValue::VariableByteInteger(v) => varint::len_of(v),
            PropertyValue::Utf8String(s) => prefixed_len(s.len()),
            PropertyValue::BinaryData(b) => prefixed_len(b.len()),
            PropertyValue::Utf8StringPair(k, v) => prefixed_len(k.len()) + prefixed_len(v.len()),
        }
    }

    fn write(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        let id = self.id();
        let name = id.name();
        let start = w.buf.len();
        w.open("property", SpanKind::Property, start);
        w.u8("property identifier", id as u8);
        match self.value() {
            PropertyValue::Byte(v) => w.u8(name, v),
            PropertyValue::TwoByteInteger(v) => w.u16(name, v),
            PropertyValue::FourByteInteger(v) => w.u32(name, v),
            PropertyValue::VariableByteInteger(v) => w.varint(name, v)?,
            PropertyValue::Utf8String(s) => w.string(name, s)?,
            PropertyValue::BinaryData(b) => w.binary(name, b)?,
            PropertyValue::Utf8StringPair(k, v) => {
                w.string("user property name", k)?;
                w.string("user property value", v)?;
            }
        }
        w.close();
        Ok(())
    }

    /// Reads one property (identifier already known to be valid).
    fn read(id: PropertyId, r: &mut Reader<'_>) -> Result<Property, DecodeError> {
        use Property as P;
        use PropertyId as I;
        let name = id.name();
        Ok(match id {
            I::PayloadFormatIndicator => P::PayloadFormatIndicator(r.u8(name)?),
            I::MessageExpiryInterval => P::MessageExpiryInterval(r.u32(name)?),
            I::ContentType => P::ContentType(r.string(name)?),
            I::ResponseTopic => P::ResponseTopic(r.string(name)?),
            I::CorrelationData => P::CorrelationData(r.binary(name)?),
            I::SubscriptionIdentifier => P::SubscriptionIdentifier(r.varint(name)?),
            I::SessionExpiryInterval => P::SessionExpiryInterval(r.u32(name)?),
            I::AssignedClientIdentifier => P::AssignedClientIdentifier(r.string(name)?),
            I::ServerKeepAlive => P::ServerKeepAlive(r.u16(name)?),
            I::AuthenticationMethod => P::AuthenticationMethod(r.string(name)?),
            I::AuthenticationData => P::AuthenticationData(r.binary(name)?),
            I::RequestProblemInformation => P::RequestProblemInformation(r.u8(name)?),
            I::WillDelayInterval => P::WillDelayInterval(r.u32(name)?),
            I::RequestResponseInformation => P::RequestResponseInformation(r.u8(name)?),
            I::ResponseInformation => P::ResponseInformation(r.string(name)?),
            I::ServerReference => P::ServerReference(r.string(name)?),
            I::ReasonString => P::ReasonString(r.string(name)?),
            I::ReceiveMaximum => P::ReceiveMaximum(r.u16(name)?),
            I::TopicAliasMaximum => P::TopicAliasMaximum(r.u16(name)?),
            I::TopicAlias => P::TopicAlias(r.u16(name)?),
            I::MaximumQoS => P::MaximumQoS(r.u8(name)?),
            I::RetainAvailable => P::RetainAvailable(r.u8(name)?),
            I::UserProperty => P::UserProperty(
                r.string("user property name")?,
                r.string("user property value")?,
            ),
            I::MaximumPacketSize => P::MaximumPacketSize(r.u32(name)?),
            I::WildcardSubscriptionAvailable => P::WildcardSubscriptionAvailable(r.u8(name)?),
            I::SubscriptionIdentifierAvailable => P::SubscriptionIdentifierAvailable(r.u8(name)?),
            I::SharedSubscriptionAvailable => P::SharedSubscriptionAvailable(r.u8(name)?),
        })
    }

    /// The value rules that make an out-of-range value a Protocol Error.
    fn check_value(&self) -> Result<(), ErrorKind> {
        use Property as P;
        let invalid = |value: u32| ErrorKind::InvalidPropertyValue {
            property: self.id(),
            value,
        };
        match *self {
            // "It is a Protocol Error to have a value other than 0 or 1."
            P::PayloadFormatIndicator(v)
            | P::RequestProblemInformation(v)
            | P::RequestResponseInformation(v)
            | P::MaximumQoS(v)
            | P::RetainAvailable(v)
            | P::WildcardSubscriptionAvailable(v)
            | P::SubscriptionIdentifierAvailable(v)
            | P::SharedSubscriptionAvailable(v)
                if v > 1 =>
            {
                Err(invalid(u32::from(v)))
            }
            // "It is a Protocol Error to include the Receive Maximum value of 0."
            P::ReceiveMaximum(0) => Err(invalid(0)),
            // "It is a Protocol Error to include the Maximum Packet Size … value of zero."
            P::MaximumPacketSize(0) => Err(invalid(0)),
            // MQTT-3.3.2-8
            P::TopicAlias(0) => Err(ErrorKind::TopicAliasZero),
            // "It is a Protocol Error if the Subscription Identifier has a value of 0."
            P::SubscriptionIdentifier(0) => Err(ErrorKind::SubscriptionIdentifierZero),
            // MQTT-3.3.2-14
            P::ResponseTopic(ref t) if topic::validate_topic_name(t).is_err() => {
                Err(ErrorKind::InvalidResponseTopic)
            }
            _ => Ok(()),
        }
    }
}

/// A property block, in wire order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Properties(Vec<Property>);

macro_rules! getters {
    ($( $(#[$doc:meta])* $fn:ident -> $variant:ident : $ty:ty, )*) => {
        $(
            $(#[$doc])*
            pub fn $fn(&self) -> Option<$ty> {
                self.0.iter().find_map(|p| match p { Property::$variant(v) => Some(v.clone()), _ => None })
            }
        )*
    };
}

impl Properties {
    pub fn new() -> Self {
        Properties(Vec::new())
    }

    pub fn push(&mut self, property: Property) {
        self.0.push(property);
    }

    /// Builder form of [`Properties::push`].
    pub fn with(mut self, property: Property) -> Self {
        self.0.push(property);
        self
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Property> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, id: PropertyId) -> Option<&Property> {
        self.0.iter().find(|p| p.id() == id)
    }

    pub fn contains(&self, id: PropertyId) -> bool {
        self.get(id).is_some()
    }

    /// Removes every property with this identifier.
    pub fn remove(&mut self, id: PropertyId) {
        self.0.retain(|p| p.id() != id);
    }

    /// Keeps the properties `keep` says yes to.
    pub fn retain(&mut self, keep: impl FnMut(&Property) -> bool) {
        self.0.retain(keep);
    }

    getters! {
        payload_format_indicator -> PayloadFormatIndicator: u8,
        message_expiry_interval -> MessageExpiryInterval: u32,
        content_type -> ContentType: MqttString,
        response_topic -> ResponseTopic: MqttString,
        correlation_data -> CorrelationData: Bytes,
        session_expiry_interval -> SessionExpiryInterval: u32,
        assigned_client_identifier -> AssignedClientIdentifier: MqttString,
        server_keep_alive -> ServerKeepAlive: u16,
        authentication_method -> AuthenticationMethod: MqttString,
        authentication_data -> AuthenticationData: Bytes,
        request_problem_information -> RequestProblemInformation: u8,
        will_delay_interval -> WillDelayInterval: u32,
        request_response_information -> RequestResponseInformation: u8,
        response_information -> ResponseInformation: MqttString,
        server_reference -> ServerReference: MqttString,
        reason_string -> ReasonString: MqttString,
        receive_maximum -> ReceiveMaximum: u16,
        topic_alias_maximum -> TopicAliasMaximum: u16,
        topic_alias -> TopicAlias: u16,
        maximum_qos -> MaximumQoS: u8,
        retain_available -> RetainAvailable: u8,
        maximum_packet_size -> MaximumPacketSize: u32,
        wildcard_subscription_available -> WildcardSubscriptionAvailable: u8,
        subscription_identifier_available -> SubscriptionIdentifierAvailable: u8,
        shared_subscription_available -> SharedSubscriptionAvailable: u8,
    }

    /// Subscription Identifiers, in order (PUBLISH may carry several).
    pub fn subscription_identifiers(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().filter_map(|p| match p {
            Property::SubscriptionIdentifier(v) => Some(*v),
            _ => None,
        })
    }

    /// User Properties, in order (their order is significant: MQTT-3.3.2-18).
    pub fn user_properties(&self) -> impl Iterator<Item = (&MqttString, &MqttString)> + '_ {
        self.0.iter().filter_map(|p| match p {
            Property::UserProperty(k, v) => Some((k, v)),
            _ => None,
        })
    }

    /// Sum of the properties' encoded sizes: the Property Length value.
    pub fn content_len(&self) -> usize {
        self.0.iter().map(Property::encoded_len).sum()
    }

    /// Property Length plus properties.
    pub fn encoded_len(&self) -> usize {
        let n = self.content_len();
        varint::len_of(u32::try_from(n).unwrap_or(u32::MAX)) + n
    }

    pub(crate) fn write(&self, name: &'static str, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        let len = self.content_len();
        let len32 = u32::try_from(len).ok().filter(|&l| l <= varint::MAX_VARINT);
        let Some(len32) = len32 else {
            return Err(EncodeError::VarIntTooLarge {
                field: "property length",
                value: u32::MAX,
            });
        };
        let start = w.buf.len();
        varint::write(len32, w.buf);
        w.open(name, SpanKind::Properties, start);
        for p in &self.0 {
            p.write(w)?;
        }
        w.close();
        Ok(())
    }

    /// Reads a property block (Property Length, then properties) and applies the rules of
    /// §2.2.2.2: known identifiers only, only those allowed in `ctx`, single-use ones once,
    /// values in range.
    pub(crate) fn read(
        r: &mut Reader<'_>,
        ctx: PropertyContext,
    ) -> Result<Properties, DecodeError> {
        let len = r.varint("property length")?;
        let mut block = r.sub(len as usize, "properties")?;
        let mut props = Vec::new();
        let mut seen: u64 = 0;
        while !block.is_empty() {
            let at = block.position();
            let raw_id = block.varint("property identifier")?;
            let id = u8::try_from(raw_id)
                .ok()
                .and_then(PropertyId::from_u8)
                .ok_or_else(|| {
                    block.error_at(ErrorKind::UnknownProperty(raw_id.min(255) as u8), at)
                })?;
            // "A Control Packet which contains an Identifier which is not valid for its
            // packet type … is a Malformed Packet." (§2.2.2.2)
            if !id.allowed_in(ctx) {
                let kind = match ctx {
                    PropertyContext::Packet(packet_type) => ErrorKind::PropertyNotAllowed {
                        property: id,
                        packet_type,
                    },
                    PropertyContext::Will => ErrorKind::PropertyNotAllowedInWill(id),
                };
                return Err(block.error_at(kind, at));
            }
            let bit = 1u64 << (id as u8);
            if seen & bit != 0 && !id.repeatable_in(ctx) {
                return Err(block.error_at(ErrorKind::DuplicateProperty(id), at));
            }
            seen |= bit;
            let property = Property::read(id, &mut block)?;
            property
                .check_value()
                .map_err(|kind| block.error_at(kind, at))?;
            props.push(property);
        }
        Ok(Properties(props))
    }
}

impl From<Vec<Property>> for Properties {
    fn from(v: Vec<Property>) -> Self {
        Properties(v)
    }
}

impl FromIterator<Property> for Properties {
    fn from_iter<I: IntoIterator<Item = Property>>(iter: I) -> Self {
        Properties(iter.into_iter().collect())
    }
}

impl<'a> IntoIterator for &'a Properties {
    type Item = &'a Property;
    type IntoIter = std::slice::Iter<'a, Property>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_27_distinct_identifiers() {
        let mut ids: Vec<u8> = PropertyId::ALL.iter().map(|&p| p as u8).collect();
        ids.dedup();
        assert_eq!(ids.len(), 27);
        for id in PropertyId::ALL {
            assert_eq!(PropertyId::from_u8(id as u8), Some(id));
        }
    }

    #[test]
    fn spot_checks_of_the_allowed_packets_table() {
        use PropertyContext::{Packet, Will};
        assert!(PropertyId::WillDelayInterval.allowed_in(Will));
        assert!(!PropertyId::WillDelayInterval.allowed_in(Packet(PacketType::Connect)));
        assert!(PropertyId::TopicAlias.allowed_in(Packet(PacketType::Publish)));
        assert!(!PropertyId::TopicAlias.allowed_in(Will));
        assert!(PropertyId::ServerReference.allowed_in(Packet(PacketType::Disconnect)));
        assert!(!PropertyId::ReasonString.allowed_in(Packet(PacketType::Publish)));
        assert!(PropertyId::UserProperty.allowed_in(Packet(PacketType::Auth)));
        assert!(!PropertyId::UserProperty.allowed_in(Packet(PacketType::PingReq)));
    }
}
