//! The broker's protocol logic, sans-IO.
//!
//! Inputs are calls that carry the time: [`Broker::open`], [`Broker::handle_packet`],
//! [`Broker::handle_decode_error`], [`Broker::handle_close`],
//! [`Broker::handle_keep_alive_expired`], [`Broker::handle_timeout`]. Outputs are pulled:
//! [`Broker::take_outbox`] gives the packets for one connection and whether to close it
//! after them, [`Broker::take_dirty`] the connections that have something to send, and
//! [`Broker::poll_timeout`] the next deadline (delayed wills, session expiry).

mod auth;
mod connection;
mod message;
mod session;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use mqttspec_codec::topic::{self, SubscriptionFilter};
use mqttspec_codec::{
    ConnAck, Connect, DecodeError, Disconnect, MqttString, Packet, PacketType, Properties,
    Property, PropertyId, ProtocolVersion, Publish, PublishAck, QoS, ReasonCode, RetainHandling,
    SubAck, Subscribe, UnsubAck, Unsubscribe,
};

use crate::config::Config;
pub use auth::CHALLENGE_METHOD;
use connection::{Connection, Phase};
use message::Message;
use session::{Delivery, Outgoing, Session, Subscription};

/// A shared subscription group: (ShareName, filter).
type ShareGroup = (String, String);
/// A member of a group: client identifier, granted QoS, subscription identifier.
type ShareMember = (String, QoS, Option<u32>);

/// Identifies one network connection.
pub type ConnId = u64;

/// Session Expiry Interval meaning "never" (3.1.1 Clean Session 0; 5.0 0xFFFFFFFF).
const NEVER: u32 = u32::MAX;

pub struct Broker {
    config: Config,
    // Boxed: a map's empty slots then cost a pointer, not a whole connection or session.
    connections: HashMap<ConnId, Box<Connection>>,
    sessions: HashMap<String, Box<Session>>,
    retained: HashMap<MqttString, Arc<Message>>,
    next_conn: ConnId,
    next_assigned_id: u64,
    /// Round-robin position per shared subscription group.
    share_cursor: HashMap<(String, String), usize>,
    dirty: HashSet<ConnId>,
    nonce_counter: u64,
}

impl std::fmt::Debug for Broker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Broker")
            .field("connections", &self.connections.len())
            .field("sessions", &self.sessions.len())
            .field("retained", &self.retained.len())
            .finish()
    }
}

/// What to do with a connection's socket after writing its outbox.
#[derive(Debug, PartialEq, Eq)]
pub struct Outbox {
    pub packets: Vec<Packet>,
    pub close: bool,
}

impl Broker {
    pub fn new(config: Config) -> Self {
        Broker {
            config,
            connections: HashMap::new(),
            sessions: HashMap::new(),
            retained: HashMap::new(),
            next_conn: 1,
            next_assigned_id: 1,
            share_cursor: HashMap::new(),
            dirty: HashSet::new(),
            nonce_counter: 0,
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// A new network connection.
    pub fn open(&mut self) -> ConnId {
        let id = self.next_conn;
        self.next_conn += 1;
        self.connections.insert(id, Box::new(Connection::new()));
        id
    }

    /// The protocol version the connection speaks (3.1.1 until its CONNECT says otherwise).
    pub fn version(&self, conn: ConnId) -> ProtocolVersion {
        self.connections
            .get(&conn)
            .map_or(ProtocolVersion::V3_1_1, |c| c.version)
    }

    /// Whether the connection's CONNECT was accepted (and it is not closing).
    pub fn is_connected(&self, conn: ConnId) -> bool {
        self.connections
            .get(&conn)
            .is_some_and(|c| c.is_connected())
    }

    /// Keep Alive in force for the connection (0: none).
    pub fn keep_alive(&self, conn: ConnId) -> u16 {
        self.connections.get(&conn).map_or(0, |c| c.keep_alive)
    }

    /// Connections with packets to send (or to close) since the last call.
    pub fn take_dirty(&mut self) -> Vec<ConnId> {
        self.dirty.drain().collect()
    }

    /// The packets to write to `conn`, and whether to close it after them.
    pub fn take_outbox(&mut self, conn: ConnId) -> Outbox {
        match self.connections.get_mut(&conn) {
            Some(c) => Outbox {
                // Taken, not drained: an idle connection keeps no buffer.
                packets: Vec::from(std::mem::take(&mut c.outbox)),
                close: c.close_after_flush,
            },
            None => Outbox {
                packets: Vec::new(),
                close: true,
            },
        }
    }

    /// The next instant [`Broker::handle_timeout`] has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.sessions
            .values()
            .flat_map(|s| [s.will_due, s.expires_at])
            .flatten()
            .min()
    }

    fn send(&mut self, conn: ConnId, packet: Packet) {
        if let Some(c) = self.connections.get_mut(&conn) {
            // MQTT-3.1.2-25: a packet too large for the client is discarded.
            if c.too_large_for_client(&packet) {
                return;
            }
            // MQTT-3.14.4-1 (and MQTT-3.2.2-5/-7 after a refusing CONNACK): nothing after
            // the last packet of a closing connection. A delivery routed to it meanwhile
            // stays in the session (QoS 1/2 in flight, sent again on reconnection).
            if matches!(c.phase, Phase::Closing) {
                return;
            }
            c.outbox.push_back(packet);
            self.dirty.insert(conn);
        }
    }

    /// Sends what must precede a close (if anything) and marks the connection closing.
    fn close(&mut self, conn: ConnId, last: Option<Packet>) {
        if let Some(packet) = last {
            self.send(conn, packet);
        }
        if let Some(c) = self.connections.get_mut(&conn) {
            c.phase = Phase::Closing;
            c.close_after_flush = true;
            self.dirty.insert(conn);
        }
    }

    /// Closes after a protocol violation: 5.0 sends DISCONNECT with `reason` first
    /// (§4.13.2); 3.1.1 just closes (§4.8).
    fn close_with(&mut self, conn: ConnId, reason: ReasonCode) {
        let v5 = self.version(conn).is_v5();
        let connected = self
            .connections
            .get(&conn)
            .is_some_and(|c| c.is_connected());
        let last = (v5 && connected).then(|| Packet::Disconnect(Disconnect::new(reason)));
        self.close(conn, last);
    }

    /// A packet arrived.
    pub fn handle_packet(&mut self, now: Instant, conn: ConnId, packet: Packet) {
        let Some(c) = self.connections.get(&conn) else {
            return;
        };
        match (&c.phase, packet) {
            // MQTT-3.1.4-6: nothing after a rejected CONNECT or a decided close.
            (Phase::Closing, _) => {}
            (Phase::AwaitingConnect, Packet::Connect(connect)) => {
                self.on_connect(now, conn, connect)
            }
            // MQTT-3.1.0-1: the first packet must be CONNECT.
            (Phase::AwaitingConnect, _) => self.close(conn, None),
            (Phase::Authenticating { .. }, Packet::Auth(auth)) => {
                self.on_connect_auth(now, conn, auth)
            }
            (Phase::Authenticating { .. }, Packet::Disconnect(_)) => self.close(conn, None),
            (Phase::Authenticating { .. }, _) => self.close(conn, None),
            // MQTT-3.1.0-2: a second CONNECT is a protocol violation.
            (Phase::Connected, Packet::Connect(_)) => {
                self.close_with(conn, ReasonCode::PROTOCOL_ERROR)
            }
            (Phase::Connected, Packet::Publish(p)) => self.on_publish(now, conn, p),
            (Phase::Connected, Packet::PubAck(a)) => self.on_puback(now, conn, a),
            (Phase::Connected, Packet::PubRec(a)) => self.on_pubrec(now, conn, a),
            (Phase::Connected, Packet::PubRel(a)) => self.on_pubrel(conn, a),
            (Phase::Connected, Packet::PubComp(a)) => self.on_pubcomp(now, conn, a),
            (Phase::Connected, Packet::Subscribe(s)) => self.on_subscribe(now, conn, s),
            (Phase::Connected, Packet::Unsubscribe(u)) => self.on_unsubscribe(conn, u),
            // MQTT-3.12.4-1
            (Phase::Connected, Packet::PingReq) => self.send(conn, Packet::PingResp),
            (Phase::Connected, Packet::Disconnect(d)) => self.on_disconnect(now, conn, d),
            (Phase::Connected, Packet::Auth(a)) => self.on_reauth(conn, a),
            // Server-to-client packets sent by a client (CONNACK, SUBACK, UNSUBACK,
            // PINGRESP): a protocol error.
            (Phase::Connected, _) => self.close_with(conn, ReasonCode::PROTOCOL_ERROR),
        }
    }

    /// The bytes from the client did not decode: 5.0 says why in DISCONNECT (or CONNACK, for
    /// a CONNECT), then the connection closes (MQTT-4.13.1-1); 3.1.1 closes.
    pub fn handle_decode_error(&mut self, conn: ConnId, error: &DecodeError) {
        let Some(c) = self.connections.get(&conn) else {
            return;
        };
        let phase = c.phase.clone();
        let code = error.reaction().reason_code();
        match phase {
            Phase::Closing => {}
            Phase::AwaitingConnect if error.packet_type == Some(PacketType::Connect) => {
                use mqttspec_codec::ErrorKind;
                let connack = match error.kind {
                    // MQTT-3.1.2-2 (3.1.1): return code 0x01, in the 3.1.1 CONNACK layout
                    // since the client's version is unknown.
                    ErrorKind::UnsupportedProtocolLevel(_) => {
                        if let Some(c) = self.connections.get_mut(&conn) {
                            c.version = ProtocolVersion::V3_1_1;
                        }
                        Some(ConnAck {
                            reason_code: ReasonCode::UNSUPPORTED_PROTOCOL_VERSION,
                            ..Default::default()
                        })
                    }
                    // MQTT-3.1.2-1: an unknown protocol name may be closed without CONNACK.
                    ErrorKind::InvalidProtocolName => None,
                    // 5.0 §4.13: a CONNACK with the reason may precede the close; 3.1.1
                    // closes without CONNACK (MQTT-3.1.4-1).
                    _ if error.version.is_v5() => {
                        if let Some(c) = self.connections.get_mut(&conn) {
                            c.version = ProtocolVersion::V5;
                        }
                        Some(ConnAck {
                            reason_code: code,
                            ..Default::default()
                        })
                    }
                    _ => None,
                };
                self.close(conn, connack.map(Packet::ConnAck));
            }
            _ => {
                // A CONNACK-only code (0x84, from a second CONNECT naming an unknown
                // version) has no place in DISCONNECT: that CONNECT is a Protocol Error
                // (MQTT-3.1.0-2), and DISCONNECT carries only its own codes (MQTT-3.14.2-1).
                let code = if code.allowed_in(PacketType::Disconnect) {
                    code
                } else {
                    ReasonCode::PROTOCOL_ERROR
                };
                let mut disconnect = Disconnect::new(code);
                if c.version.is_v5() {
                    disconnect
                        .properties
                        .push(Property::ReasonString(MqttString::from(error.to_string())));
                    // MQTT-3.14.2-3: no reason string if it would make the packet too big.
                    if c.too_large_for_client(&Packet::Disconnect(disconnect.clone())) {
                        disconnect.properties = Properties::new();
                    }
                }
                let connected = c.is_connected();
                let v5 = c.version.is_v5();
                self.close(
                    conn,
                    (v5 && connected).then_some(Packet::Disconnect(disconnect)),
                );
            }
        }
    }

    /// The network connection closed (by the peer, or after we closed it).
    pub fn handle_close(&mut self, now: Instant, conn: ConnId) {
        self.detach_session(now, conn);
        self.connections.remove(&conn);
        self.dirty.remove(&conn);
    }

    /// The connection no longer carries its session: publish or schedule the will (unless
    /// the client disconnected normally), and end the session or start its expiry. Done as
    /// soon as the end is known (DISCONNECT received, or the socket closed), so that a
    /// client reconnecting right after its DISCONNECT finds the session as the spec says.
    fn detach_session(&mut self, now: Instant, conn: ConnId) {
        let Some(c) = self.connections.get(&conn) else {
            return;
        };
        let (client_id, abnormal) = (c.client_id.clone(), !c.disconnected_cleanly);
        let Some(session) = self.sessions.get_mut(&client_id) else {
            return;
        };
        if session.connection != Some(conn) {
            // Detached already, or taken over by a newer connection.
            return;
        }
        session.connection = None;
        let will = session.will.take();
        let expiry = session.expiry_interval;
        if let Some((will, delay)) = will
            && abnormal
        {
            // MQTT-3.1.2-8 (5.0): published after the Will Delay Interval or when the
            // session ends, whichever is first.
            if delay > 0 && expiry > 0 {
                if let Some(s) = self.sessions.get_mut(&client_id) {
                    s.will = Some((will, delay));
                    s.will_due = Some(now + Duration::from_secs(u64::from(delay.min(expiry))));
                }
            } else {
                self.publish_will(now, &client_id, will);
            }
        }
        if let Some(s) = self.sessions.get_mut(&client_id) {
            if expiry == 0 {
                // The session ends with the connection (3.1.1 Clean Session 1; 5.0 expiry 0).
                self.sessions.remove(&client_id);
            } else if expiry != NEVER {
                s.expires_at = Some(now + Duration::from_secs(u64::from(expiry)));
            }
        }
    }

    /// No packet within 1.5 × Keep Alive (MQTT-3.1.2-24 / MQTT-3.1.2-22): close as if the
    /// network failed (the will is published).
    pub fn handle_keep_alive_expired(&mut self, conn: ConnId) {
        self.close_with(conn, ReasonCode::KEEP_ALIVE_TIMEOUT);
    }

    /// Time passed: publish delayed wills that are due, end expired sessions.
    pub fn handle_timeout(&mut self, now: Instant) {
        let due_wills: Vec<String> = self
            .sessions
            .values()
            .filter(|s| s.will_due.is_some_and(|t| t <= now))
            .map(|s| s.client_id.clone())
            .collect();
        for id in due_wills {
            if let Some(s) = self.sessions.get_mut(&id) {
                s.will_due = None;
                if let Some((will, _)) = s.will.take() {
                    self.publish_will(now, &id, will);
                }
            }
        }
        let expired: Vec<String> = self
            .sessions
            .values()
            .filter(|s| s.connection.is_none() && s.expires_at.is_some_and(|t| t <= now))
            .map(|s| s.client_id.clone())
            .collect();
        for id in expired {
            // MQTT-4.1.0-2
            if let Some(mut s) = self.sessions.remove(&id)
                && let Some((will, _)) = s.will.take()
            {
                self.publish_will(now, &id, will);
            }
        }
    }

    fn publish_will(&mut self, now: Instant, client_id: &str, will: mqttspec_codec::Will) {
        let message = Message::new(
            will.topic,
            will.payload,
            will.qos,
            will.retain,
            &will.properties,
            now,
            client_id,
        );
        self.route(now, message);
    }

    // --- CONNECT (§3.1.4) ---

    fn on_connect(&mut self, now: Instant, conn: ConnId, connect: Connect) {
        let v = connect.protocol;
        if let Some(c) = self.connections.get_mut(&conn) {
            c.version = v;
        }
        let refuse = |code: ReasonCode| Some(code);
        // Credentials (MQTT-3.1.4-2: authentication is the server's to do).
        let credentials_ok = match &self.config.users {
            None => true,
            Some(users) => match (&connect.username, &connect.password) {
                (Some(u), Some(p)) => users
                    .get(u.as_str())
                    .is_some_and(|pw| pw.as_bytes() == &p[..]),
                _ => false,
            },
        };
        let rejection = if !credentials_ok {
            refuse(ReasonCode::BAD_USER_NAME_OR_PASSWORD)
        } else if connect.client_id.is_empty()
            && !v.is_v5()
            && (!connect.clean_start || v == ProtocolVersion::V3_1)
        {
            // MQTT-3.1.3-8: zero-length ClientId with Clean Session 0 (and 3.1 has no
            // zero-length ClientId at all).
            refuse(ReasonCode::CLIENT_IDENTIFIER_NOT_VALID)
        } else if v.is_v5()
            && connect
                .will
                .as_ref()
                .is_some_and(|w| w.qos > self.config.maximum_qos)
        {
            // MQTT-3.2.2-12
            refuse(ReasonCode::QOS_NOT_SUPPORTED)
        } else if v.is_v5()
            && connect.will.as_ref().is_some_and(|w| w.retain)
            && !self.config.retain_available
        {
            // MQTT-3.2.2-13
            refuse(ReasonCode::RETAIN_NOT_SUPPORTED)
        } else if v.is_v5()
            && connect
                .properties
                .authentication_method()
                .is_some_and(|m| m.as_str() != CHALLENGE_METHOD)
        {
            // MQTT-4.12.0-1
            refuse(ReasonCode::BAD_AUTHENTICATION_METHOD)
        } else if connect.client_id.is_empty()
            || !self.sessions.contains_key(connect.client_id.as_str())
        {
            (self.sessions.len() >= self.config.max_sessions)
                .then_some(ReasonCode::SERVER_UNAVAILABLE)
        } else {
            None
        };
        if let Some(code) = rejection {
            // MQTT-3.2.2-4/-5, MQTT-3.2.2-6/-7: Session Present 0, then close.
            let mut connack = ConnAck {
                session_present: false,
                reason_code: code,
                properties: Properties::new(),
            };
            if !v.is_v5() && code.to_v3_connack().is_none() {
                connack.reason_code = ReasonCode::SERVER_UNAVAILABLE;
            }
            self.close(conn, Some(Packet::ConnAck(connack)));
            return;
        }
        if v.is_v5() && connect.properties.authentication_method().is_some() {
            // Enhanced authentication (§4.12): challenge first, CONNACK after.
            let nonce = self.next_nonce();
            let method = connect
                .properties
                .authentication_method()
                .unwrap_or_default();
            if let Some(c) = self.connections.get_mut(&conn) {
                c.phase = Phase::Authenticating {
                    connect: Box::new(connect),
                    nonce: nonce.clone(),
                };
                c.auth_method = Some(method.clone());
            }
            self.send(conn, auth::challenge(&method, nonce));
            return;
        }
        self.accept(now, conn, connect);
    }

    fn on_connect_auth(&mut self, now: Instant, conn: ConnId, packet: mqttspec_codec::Auth) {
        let Some(c) = self.connections.get_mut(&conn) else {
            return;
        };
        let phase = std::mem::replace(&mut c.phase, Phase::AwaitingConnect);
        let Phase::Authenticating { connect, nonce } = phase else {
            c.phase = phase;
            return;
        };
        match auth::verify(&packet, c.auth_method.as_ref(), &nonce) {
            auth::Verdict::Accepted => self.accept(now, conn, *connect),
            auth::Verdict::Rejected(code) => {
                let connack = ConnAck {
                    reason_code: code,
                    ..Default::default()
                };
                self.close(conn, Some(Packet::ConnAck(connack)));
            }
        }
    }

    fn on_reauth(&mut self, conn: ConnId, packet: mqttspec_codec::Auth) {
        let nonce = self.next_nonce();
        let Some(c) = self.connections.get_mut(&conn) else {
            return;
        };
        let Some(method) = c.auth_method.clone() else {
            // No Authentication Method in CONNECT: AUTH is a protocol error (MQTT-4.12.0-7).
            self.close_with(conn, ReasonCode::PROTOCOL_ERROR);
            return;
        };
        match (packet.reason_code, c.reauth_nonce.take()) {
            (ReasonCode::RE_AUTHENTICATE, None) => {
                if packet.properties.authentication_method().as_ref() != Some(&method) {
                    self.close_with(conn, ReasonCode::PROTOCOL_ERROR);
                    return;
                }
                c.reauth_nonce = Some(nonce.clone());
                self.send(conn, auth::challenge(&method, nonce));
            }
            (ReasonCode::CONTINUE_AUTHENTICATION, Some(expected)) => {
                match auth::verify(&packet, Some(&method), &expected) {
                    auth::Verdict::Accepted => self.send(conn, auth::success(&method)),
                    // MQTT-4.12.1-2
                    auth::Verdict::Rejected(code) => self.close_with(conn, code),
                }
            }
            _ => self.close_with(conn, ReasonCode::PROTOCOL_ERROR),
        }
    }

    fn next_nonce(&mut self) -> Bytes {
        self.nonce_counter += 1;
        auth::nonce(self.nonce_counter)
    }

    fn accept(&mut self, now: Instant, conn: ConnId, connect: Connect) {
        let v = connect.protocol;
        // Client identifier: assign one to a zero-length id (MQTT-3.1.3-6, MQTT-3.1.3-7).
        let assigned = connect.client_id.is_empty();
        let client_id = if assigned {
            let id = format!("mqttspec-{}", self.next_assigned_id);
            self.next_assigned_id += 1;
            id
        } else {
            connect.client_id.as_str().to_owned()
        };
        // Session Expiry Interval (5.0 §3.1.2.11.2) or Clean Session (3.1.1).
        let requested_expiry = if v.is_v5() {
            connect.properties.session_expiry_interval().unwrap_or(0)
        } else if connect.clean_start {
            0
        } else {
            NEVER
        };
        let expiry = match self.config.session_expiry_cap {
            Some(cap) if v.is_v5() => requested_expiry.min(cap),
            _ => requested_expiry,
        };

        // Session takeover (MQTT-3.1.4-2 3.1.1 / MQTT-3.1.4-3 5.0).
        let previous = self.sessions.get(&client_id).and_then(|s| s.connection);
        if let Some(old) = previous {
            let old_v5 = self.version(old).is_v5();
            let last =
                old_v5.then(|| Packet::Disconnect(Disconnect::new(ReasonCode::SESSION_TAKEN_OVER)));
            self.close(old, last);
            // The old connection's will: published now, unless delayed and the session
            // continues (MQTT-3.1.3-9).
            if let Some(s) = self.sessions.get_mut(&client_id) {
                s.connection = None;
                let will = s.will.take();
                let continues = !connect.clean_start;
                if let Some((will, delay)) = will
                    && !(continues && delay > 0)
                {
                    self.publish_will(now, &client_id, will);
                }
            }
        }
        // Clean Start (MQTT-3.1.2-4 / -5 / -6; 3.1.1 MQTT-3.1.2-4 / -6).
        if connect.clean_start
            && let Some(mut old) = self.sessions.remove(&client_id)
            && let Some((will, _)) = old.will.take()
        {
            // A delayed will of the ended session is published now (the session ends).
            self.publish_will(now, &client_id, will);
        }
        let session_present = self.sessions.contains_key(&client_id);
        let session = self
            .sessions
            .entry(client_id.clone())
            .or_insert_with(|| Box::new(Session::new(client_id.clone(), expiry)));
        session.expiry_interval = expiry;
        session.expires_at = None;
        session.connection = Some(conn);
        // A new connection before the will delay passed: no will (MQTT-3.1.3-9).
        session.will_due = None;
        session.will = connect.will.clone().map(|w| {
            let delay = w.properties.will_delay_interval().unwrap_or(0);
            (w, delay)
        });

        let Some(c) = self.connections.get_mut(&conn) else {
            return;
        };
        c.phase = Phase::Connected;
        c.client_id = client_id.clone();
        c.keep_alive = self.config.server_keep_alive.unwrap_or(connect.keep_alive);
        if v.is_v5() {
            let p = &connect.properties;
            c.client_receive_maximum = p.receive_maximum().unwrap_or(u16::MAX);
            c.client_maximum_packet_size = p.maximum_packet_size();
            c.client_topic_alias_maximum = p.topic_alias_maximum().unwrap_or(0);
            c.request_problem_information = p.request_problem_information() != Some(0);
        }

        let mut props = Properties::new();
        if v.is_v5() {
            let cfg = &self.config;
            if assigned {
                props.push(Property::AssignedClientIdentifier(MqttString::from(
                    client_id.as_str(),
                )));
            }
            if expiry != requested_expiry {
                props.push(Property::SessionExpiryInterval(expiry));
            }
            if let Some(ka) = cfg.server_keep_alive {
                props.push(Property::ServerKeepAlive(ka));
            }
            if cfg.receive_maximum != u16::MAX {
                props.push(Property::ReceiveMaximum(cfg.receive_maximum));
            }
            if cfg.maximum_qos != QoS::ExactlyOnce {
                props.push(Property::MaximumQoS(cfg.maximum_qos.as_u8()));
            }
            if !cfg.retain_available {
                props.push(Property::RetainAvailable(0));
            }
            props.push(Property::MaximumPacketSize(cfg.maximum_packet_size));
            if cfg.topic_alias_maximum > 0 {
                props.push(Property::TopicAliasMaximum(cfg.topic_alias_maximum));
            }
            if !cfg.wildcard_subscriptions {
                props.push(Property::WildcardSubscriptionAvailable(0));
            }
            if !cfg.subscription_identifiers {
                props.push(Property::SubscriptionIdentifierAvailable(0));
            }
            if !cfg.shared_subscriptions {
                props.push(Property::SharedSubscriptionAvailable(0));
            }
            if connect.properties.request_response_information() == Some(1) {
                props.push(Property::ResponseInformation(MqttString::from(format!(
                    "mqttspec/response/{client_id}"
                ))));
            }
            // MQTT-4.12.0-5: a successful CONNACK after enhanced authentication names the method.
            if let Some(method) = connect.properties.authentication_method() {
                props.push(Property::AuthenticationMethod(method));
            }
        }
        // MQTT-3.2.2-2 / -3 (5.0), MQTT-3.2.2-1 / -2 / -3 (3.1.1).
        let mut connack = ConnAck {
            session_present,
            reason_code: ReasonCode::SUCCESS,
            properties: props,
        };
        // A CONNACK too large for the client's Maximum Packet Size (MQTT-3.1.2-24) sheds
        // what the client can do without: Response Information (a MAY) and Topic Alias
        // Maximum (absent means 0, which only restricts the client).
        for optional in [
            PropertyId::ResponseInformation,
            PropertyId::TopicAliasMaximum,
        ] {
            let too_large = self
                .connections
                .get(&conn)
                .is_some_and(|c| c.too_large_for_client(&Packet::ConnAck(connack.clone())));
            if !too_large {
                break;
            }
            connack.properties = connack
                .properties
                .iter()
                .filter(|p| p.id() != optional)
                .cloned()
                .collect();
        }
        self.send(conn, Packet::ConnAck(connack));

        // Resume: resend in-flight messages in order with DUP (MQTT-4.4.0-1), then the queue.
        if session_present {
            self.resend_inflight(now, conn, &client_id);
        }
        self.drain_queue(now, &client_id);
    }

    fn resend_inflight(&mut self, now: Instant, conn: ConnId, client_id: &str) {
        let Some(session) = self.sessions.get(client_id) else {
            return;
        };
        let inflight: Vec<(u16, Outgoing)> = session.inflight.iter().cloned().collect();
        for (pid, state) in inflight {
            match state {
                Outgoing::Published(d) => {
                    let mut publish = self.build_publish(conn, &d, pid, now);
                    publish.dup = true;
                    self.send(conn, Packet::Publish(publish));
                }
                Outgoing::Released => self.send(conn, Packet::PubRel(PublishAck::new(pid))),
            }
        }
    }

    // --- PUBLISH from a client (§3.3.4, §4.3) ---

    fn on_publish(&mut self, now: Instant, conn: ConnId, mut publish: Publish) {
        let Some(c) = self.connections.get_mut(&conn) else {
            return;
        };
        let v5 = c.version.is_v5();
        // MQTT-3.2.2-11 is the client's duty; a server receiving more than it offers
        // treats it as an error (5.0 §3.2.2.3.4: DISCONNECT 0x9B).
        if publish.qos > self.config.maximum_qos {
            self.close_with(conn, ReasonCode::QOS_NOT_SUPPORTED);
            return;
        }
        if publish.retain && !self.config.retain_available {
            self.close_with(conn, ReasonCode::RETAIN_NOT_SUPPORTED);
            return;
        }
        if v5 {
            // MQTT-3.3.4-6
            if publish
                .properties
                .subscription_identifiers()
                .next()
                .is_some()
            {
                self.close_with(conn, ReasonCode::PROTOCOL_ERROR);
                return;
            }
            // Topic Alias (§3.3.2.3.4): MQTT-3.3.2-12 accepts 1..=our maximum.
            if let Some(alias) = publish.properties.topic_alias() {
                if alias > self.config.topic_alias_maximum {
                    self.close_with(conn, ReasonCode::TOPIC_ALIAS_INVALID);
                    return;
                }
                if publish.topic.is_empty() {
                    match c.inbound_aliases.get(&alias) {
                        Some(topic) => publish.topic = topic.clone(),
                        None => {
                            self.close_with(conn, ReasonCode::PROTOCOL_ERROR);
                            return;
                        }
                    }
                } else {
                    c.inbound_aliases.insert(alias, publish.topic.clone());
                }
            }
        }
        let client_id = c.client_id.clone();
        let pid = publish.packet_id;
        // §3.3.2.3.2: a payload that is not the UTF-8 its Payload Format Indicator announces
        // MAY be refused with 0x99. The packet identifier is then free again: a later
        // PUBLISH with it is a new Application Message (MQTT-4.3.3-9).
        if v5
            && publish.qos != QoS::AtMostOnce
            && publish.properties.payload_format_indicator() == Some(1)
            && std::str::from_utf8(&publish.payload).is_err()
        {
            let refusal = |pid| PublishAck {
                reason_code: ReasonCode::PAYLOAD_FORMAT_INVALID,
                ..PublishAck::new(pid)
            };
            let ack = if publish.qos == QoS::AtLeastOnce {
                Packet::PubAck(refusal(self.puback_id(pid)))
            } else {
                Packet::PubRec(refusal(pid))
            };
            self.send(conn, ack);
            return;
        }
        match publish.qos {
            QoS::AtMostOnce => self.route_publish(now, &client_id, publish),
            QoS::AtLeastOnce => {
                // MQTT-4.3.2-4: own the message, then PUBACK.
                self.route_publish(now, &client_id, publish);
                let ack = PublishAck::new(self.puback_id(pid));
                self.send(conn, Packet::PubAck(ack));
            }
            QoS::ExactlyOnce => {
                let Some(session) = self.sessions.get_mut(&client_id) else {
                    return;
                };
                if session.inbound_qos2.contains(&pid) {
                    // MQTT-4.3.3-10: acknowledge again, deliver once.
                    self.send(conn, Packet::PubRec(PublishAck::new(pid)));
                    return;
                }
                // Receive Maximum (§3.3.4): more unacknowledged QoS 2 than we allow.
                if session.inbound_qos2.len() >= usize::from(self.config.receive_maximum) {
                    self.close_with(conn, ReasonCode::RECEIVE_MAXIMUM_EXCEEDED);
                    return;
                }
                session.inbound_qos2.insert(pid);
                self.route_publish(now, &client_id, publish);
                // MQTT-4.3.3-8
                self.send(conn, Packet::PubRec(PublishAck::new(pid)));
            }
        }
    }

    /// The Packet Identifier of the PUBACK answering a QoS 1 PUBLISH with `pid`: `pid`
    /// (but for the planted bug `WrongPubackId`, which clears bit 15).
    fn puback_id(&self, pid: u16) -> u16 {
        #[cfg(feature = "planted-bugs")]
        if self.config.planted_bug == Some(crate::PlantedBug::WrongPubackId) {
            return pid & 0x7FFF;
        }
        pid
    }

    fn on_pubrel(&mut self, conn: ConnId, ack: PublishAck) {
        let Some(c) = self.connections.get(&conn) else {
            return;
        };
        let v5 = c.version.is_v5();
        let known = self
            .sessions
            .get_mut(&c.client_id)
            .is_some_and(|s| s.inbound_qos2.remove(&ack.packet_id));
        let mut comp = PublishAck::new(ack.packet_id);
        if !known && v5 {
            comp.reason_code = ReasonCode::PACKET_IDENTIFIER_NOT_FOUND;
        }
        // MQTT-4.3.3-11
        self.send(conn, Packet::PubComp(comp));
    }

    fn route_publish(&mut self, now: Instant, client_id: &str, publish: Publish) {
        let message = Message::new(
            publish.topic,
            publish.payload,
            publish.qos,
            publish.retain,
            &publish.properties,
            now,
            client_id,
        );
        self.route(now, message);
    }

    /// Stores a retained message and delivers to every matching subscription.
    fn route(&mut self, now: Instant, message: Message) {
        let message = Arc::new(message);
        if message.retain && self.config.retain_available {
            if message.payload.is_empty() {
                // MQTT-3.3.1-6 / -7 (5.0), MQTT-3.3.1-10 / -11 (3.1.1)
                self.retained.remove(&message.topic);
            } else {
                // MQTT-3.3.1-5
                self.retained.insert(message.topic.clone(), message.clone());
            }
        }
        let mut deliveries: Vec<(String, Delivery)> = Vec::new();
        let mut groups: HashMap<ShareGroup, Vec<ShareMember>> = HashMap::new();
        for session in self.sessions.values() {
            let mut best: Option<(QoS, bool)> = None;
            let mut ids = Vec::new();
            for sub in &session.subscriptions {
                if !topic::matches(&sub.filter, &message.topic) {
                    continue;
                }
                if let Some(share) = &sub.share_name {
                    groups
                        .entry((share.clone(), sub.filter.clone()))
                        .or_default()
                        .push((session.client_id.clone(), sub.granted, sub.identifier));
                    continue;
                }
                // MQTT-3.8.3-3: No Local.
                if sub.options.no_local && session.client_id == message.publisher {
                    continue;
                }
                // MQTT-3.3.4-2: one copy at the maximum QoS of the matching subscriptions,
                // with all their identifiers (MQTT-3.3.4-3 / -4).
                let rap = sub.options.retain_as_published;
                best = Some(match best {
                    Some((q, r)) => (q.max(sub.granted), r || rap),
                    None => (sub.granted, rap),
                });
                ids.extend(sub.identifier);
            }
            if let Some((granted, rap)) = best {
                deliveries.push((
                    session.client_id.clone(),
                    Delivery {
                        qos: message.qos.min(granted),
                        // MQTT-3.3.1-12 / -13 (5.0); 3.1.1 MQTT-3.3.1-9: RETAIN 0 when
                        // forwarding to established subscriptions.
                        retain: rap && message.retain,
                        subscription_ids: ids,
                        message: message.clone(),
                    },
                ));
            }
        }
        // Shared subscriptions (§4.8.2): one member per group, round robin, online first.
        for (key, members) in groups {
            let cursor = self.share_cursor.entry(key).or_insert(0);
            let online: Vec<_> = members
                .iter()
                .filter(|(id, ..)| {
                    self.sessions
                        .get(id)
                        .is_some_and(|s| s.connection.is_some())
                })
                .collect();
            let pool: Vec<_> = if online.is_empty() {
                members.iter().collect()
            } else {
                online
            };
            if pool.is_empty() {
                continue;
            }
            *cursor = cursor.wrapping_add(1);
            let (id, granted, sub_id) = pool[*cursor % pool.len()];
            deliveries.push((
                id.clone(),
                Delivery {
                    qos: message.qos.min(*granted),
                    retain: false,
                    subscription_ids: sub_id.iter().copied().collect(),
                    message: message.clone(),
                },
            ));
        }
        for (client_id, delivery) in deliveries {
            self.deliver(now, &client_id, delivery);
        }
    }

    /// Hands one delivery to a session: straight to the wire when connected and within the
    /// send quota (§4.9), else into the session queue (MQTT-3.1.2-5, 3.1.1).
    fn deliver(&mut self, now: Instant, client_id: &str, delivery: Delivery) {
        let limit = self.config.max_queued_messages;
        let Some(session) = self.sessions.get_mut(client_id) else {
            return;
        };
        let Some(conn) = session.connection else {
            // Offline: QoS 1 and 2 wait for the client; QoS 0 is not kept.
            if delivery.qos != QoS::AtMostOnce {
                session.enqueue(delivery, limit);
            }
            return;
        };
        if delivery.qos == QoS::AtMostOnce {
            let backlog = self.connections.get(&conn).map_or(0, |c| c.outbox.len());
            if backlog >= limit {
                return; // a stalled subscriber loses QoS 0 messages, not our memory
            }
            let publish = self.build_publish(conn, &delivery, 0, now);
            self.send(conn, Packet::Publish(publish));
            return;
        }
        session.queue.push_back(delivery);
        if session.queue.len() > limit {
            session.queue.pop_back();
        }
        self.drain_queue(now, client_id);
    }

    /// Sends queued QoS 1/2 messages while the client's Receive Maximum allows
    /// (MQTT-3.3.4-9).
    fn drain_queue(&mut self, now: Instant, client_id: &str) {
        let Some(session) = self.sessions.get_mut(client_id) else {
            return;
        };
        let Some(conn) = session.connection else {
            return;
        };
        let Some(c) = self.connections.get(&conn) else {
            return;
        };
        if !c.is_connected() {
            return;
        }
        // The client's Receive Maximum, and our own cap (3.1.1 clients state none).
        let quota = usize::from(
            c.client_receive_maximum
                .min(self.config.max_inflight_messages),
        );
        let mut to_send = Vec::new();
        while session.inflight.len() < quota {
            let Some(delivery) = session.queue.pop_front() else {
                break;
            };
            // MQTT-3.3.2-5: expired before onward delivery started.
            if delivery.message.is_expired(now) {
                continue;
            }
            if delivery.qos == QoS::AtMostOnce {
                to_send.push((0, delivery));
                continue;
            }
            let Some(pid) = session.allocate_packet_id() else {
                session.queue.push_front(delivery);
                break;
            };
            session
                .inflight
                .push_back((pid, Outgoing::Published(delivery.clone())));
            to_send.push((pid, delivery));
        }
        for (pid, delivery) in to_send {
            let publish = self.build_publish(conn, &delivery, pid, now);
            let packet = Packet::Publish(publish);
            let too_large = self
                .connections
                .get(&conn)
                .is_some_and(|c| c.too_large_for_client(&packet));
            if too_large {
                // MQTT-3.1.2-25: discard, and behave as if delivery completed.
                if let Some(s) = self.sessions.get_mut(client_id) {
                    s.inflight.retain(|(p, _)| *p != pid);
                }
                continue;
            }
            self.send(conn, packet);
        }
    }

    /// The PUBLISH for one delivery on one connection: remaining expiry, subscription
    /// identifiers, and a Topic Alias where the client allows them.
    fn build_publish(&mut self, conn: ConnId, d: &Delivery, pid: u16, now: Instant) -> Publish {
        let m = &d.message;
        let mut publish = Publish {
            dup: false,
            qos: d.qos,
            retain: d.retain,
            topic: m.topic.clone(),
            packet_id: if d.qos == QoS::AtMostOnce { 0 } else { pid },
            properties: Properties::new(),
            payload: m.payload.clone(),
        };
        let Some(c) = self.connections.get_mut(&conn) else {
            return publish;
        };
        if !c.version.is_v5() {
            return publish;
        }
        let mut props = m.properties.clone();
        // MQTT-3.3.2-6: the interval minus the time the message waited.
        if let Some(left) = m.remaining_expiry(now) {
            props.push(Property::MessageExpiryInterval(left));
        }
        for id in &d.subscription_ids {
            props.push(Property::SubscriptionIdentifier(*id));
        }
        // Topic Alias towards the client (MQTT-3.1.2-26 / -27, MQTT-3.3.2-11).
        if c.client_topic_alias_maximum > 0 {
            if let Some(alias) = c.outbound_aliases.get(&m.topic) {
                props.push(Property::TopicAlias(*alias));
                publish.topic = MqttString::default();
            } else if c.outbound_aliases.len() < usize::from(c.client_topic_alias_maximum) {
                let alias = c.outbound_aliases.len() as u16 + 1;
                c.outbound_aliases.insert(m.topic.clone(), alias);
                props.push(Property::TopicAlias(alias));
            }
        }
        publish.properties = props;
        publish
    }

    // --- Acknowledgements from the client (outgoing flows) ---

    fn on_puback(&mut self, now: Instant, conn: ConnId, ack: PublishAck) {
        let Some(client_id) = self.connections.get(&conn).map(|c| c.client_id.clone()) else {
            return;
        };
        if let Some(s) = self.sessions.get_mut(&client_id)
            && let Some(i) = s.inflight.iter().position(|(pid, st)| {
                *pid == ack.packet_id
                    && matches!(st, Outgoing::Published(d) if d.qos == QoS::AtLeastOnce)
            })
        {
            // Acknowledgements mostly come in order: the entry is near the front.
            s.inflight.remove(i);
        }
        self.drain_queue(now, &client_id);
    }

    fn on_pubrec(&mut self, now: Instant, conn: ConnId, ack: PublishAck) {
        let Some(client_id) = self.connections.get(&conn).map(|c| c.client_id.clone()) else {
            return;
        };
        let Some(s) = self.sessions.get_mut(&client_id) else {
            return;
        };
        let entry = s.inflight.iter_mut().find(|(pid, st)| {
            *pid == ack.packet_id
                && matches!(st, Outgoing::Published(d) if d.qos == QoS::ExactlyOnce)
        });
        match entry {
            Some(entry) if ack.reason_code.is_error() => {
                // MQTT-4.8.2-6 / §4.3.3: a failing PUBREC ends the flow.
                let pid = entry.0;
                s.inflight.retain(|(p, _)| *p != pid);
                self.drain_queue(now, &client_id);
            }
            Some(entry) => {
                // MQTT-4.3.3-4
                entry.1 = Outgoing::Released;
                self.send(conn, Packet::PubRel(PublishAck::new(ack.packet_id)));
            }
            None => {
                let mut rel = PublishAck::new(ack.packet_id);
                if self.version(conn).is_v5() {
                    rel.reason_code = ReasonCode::PACKET_IDENTIFIER_NOT_FOUND;
                }
                self.send(conn, Packet::PubRel(rel));
            }
        }
    }

    fn on_pubcomp(&mut self, now: Instant, conn: ConnId, ack: PublishAck) {
        let Some(client_id) = self.connections.get(&conn).map(|c| c.client_id.clone()) else {
            return;
        };
        if let Some(s) = self.sessions.get_mut(&client_id) {
            s.inflight
                .retain(|(pid, st)| !(*pid == ack.packet_id && matches!(st, Outgoing::Released)));
        }
        self.drain_queue(now, &client_id);
    }

    // --- SUBSCRIBE / UNSUBSCRIBE (§3.8.4, §3.10.4) ---

    fn on_subscribe(&mut self, now: Instant, conn: ConnId, subscribe: Subscribe) {
        let Some(c) = self.connections.get(&conn) else {
            return;
        };
        let v = c.version;
        let client_id = c.client_id.clone();
        let identifier = subscribe.properties.subscription_identifiers().next();
        if identifier.is_some() && !self.config.subscription_identifiers {
            self.close_with(conn, ReasonCode::SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED);
            return;
        }
        let mut codes = Vec::with_capacity(subscribe.subscriptions.len());
        let mut retained_for: Vec<(Subscription, bool)> = Vec::new();
        for s in &subscribe.subscriptions {
            let Ok(parsed) = SubscriptionFilter::parse(&s.filter, v) else {
                codes.push(if v.is_v5() {
                    ReasonCode::TOPIC_FILTER_INVALID
                } else {
                    ReasonCode::UNSPECIFIED_ERROR
                });
                continue;
            };
            if parsed.is_shared() && !self.config.shared_subscriptions {
                codes.push(ReasonCode::SHARED_SUBSCRIPTIONS_NOT_SUPPORTED);
                continue;
            }
            if topic::has_wildcards(parsed.filter) && !self.config.wildcard_subscriptions {
                // 3.1.1 MQTT-3.8.3-2: reject filters with wildcards when unsupported.
                codes.push(if v.is_v5() {
                    ReasonCode::WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED
                } else {
                    ReasonCode::UNSPECIFIED_ERROR
                });
                continue;
            }
            // MQTT-3.8.4-8 / 3.1.1 MQTT-3.8.4-6: granted QoS capped by what we support.
            let granted = s.options.qos.min(self.config.maximum_qos);
            codes.push(ReasonCode(granted.as_u8()));
            let sub = Subscription {
                raw_filter: s.filter.as_str().to_owned(),
                filter: parsed.filter.to_owned(),
                share_name: parsed.share_name.map(str::to_owned),
                options: s.options,
                granted,
                identifier,
            };
            let Some(session) = self.sessions.get_mut(&client_id) else {
                return;
            };
            // MQTT-3.8.4-3: an identical filter replaces the existing subscription.
            let existed = match session
                .subscriptions
                .iter_mut()
                .find(|e| e.raw_filter == sub.raw_filter)
            {
                Some(existing) => {
                    *existing = sub.clone();
                    true
                }
                None => {
                    session.subscriptions.push(sub.clone());
                    false
                }
            };
            retained_for.push((sub, existed));
        }
        // MQTT-3.8.4-1 / -2: SUBACK with the same Packet Identifier, a code per filter.
        let suback = SubAck {
            packet_id: subscribe.packet_id,
            properties: Properties::new(),
            reason_codes: codes,
        };
        self.send(conn, Packet::SubAck(suback));
        for (sub, existed) in retained_for {
            self.send_retained(now, &client_id, &sub, existed);
        }
    }

    /// Retained messages at subscription time (MQTT-3.3.1-6 3.1.1; MQTT-3.3.1-9..-11 5.0),
    /// with RETAIN set (MQTT-3.3.1-8 3.1.1). Never to shared subscriptions (§4.8.2).
    fn send_retained(&mut self, now: Instant, client_id: &str, sub: &Subscription, existed: bool) {
        if sub.share_name.is_some() {
            return;
        }
        match sub.options.retain_handling {
            RetainHandling::SendAtSubscribe => {}
            RetainHandling::SendIfNew if !existed => {}
            _ => return,
        }
        self.retained.retain(|_, m| !m.is_expired(now));
        let mut matching: Vec<Arc<Message>> = self
            .retained
            .values()
            .filter(|m| topic::matches(&sub.filter, &m.topic))
            .cloned()
            .collect();
        matching.sort_by(|a, b| a.topic.cmp(&b.topic));
        for message in matching {
            let delivery = Delivery {
                qos: message.qos.min(sub.granted),
                retain: true,
                subscription_ids: sub.identifier.into_iter().collect(),
                message,
            };
            self.deliver(now, client_id, delivery);
        }
    }

    fn on_unsubscribe(&mut self, conn: ConnId, unsubscribe: Unsubscribe) {
        let Some(c) = self.connections.get(&conn) else {
            return;
        };
        let v5 = c.version.is_v5();
        let client_id = c.client_id.clone();
        let mut codes = Vec::new();
        if let Some(session) = self.sessions.get_mut(&client_id) {
            for filter in &unsubscribe.filters {
                // MQTT-3.10.4-1: compared character by character.
                let before = session.subscriptions.len();
                session
                    .subscriptions
                    .retain(|s| s.raw_filter != filter.as_str());
                codes.push(if session.subscriptions.len() < before {
                    ReasonCode::SUCCESS
                } else {
                    ReasonCode::NO_SUBSCRIPTION_EXISTED
                });
            }
        }
        // MQTT-3.10.4-4 / -5
        let unsuback = UnsubAck {
            packet_id: unsubscribe.packet_id,
            properties: Properties::new(),
            reason_codes: if v5 { codes } else { Vec::new() },
        };
        self.send(conn, Packet::UnsubAck(unsuback));
    }

    // --- DISCONNECT (§3.14.4) ---

    fn on_disconnect(&mut self, now: Instant, conn: ConnId, disconnect: Disconnect) {
        let Some(c) = self.connections.get_mut(&conn) else {
            return;
        };
        let client_id = c.client_id.clone();
        // 5.0 removes the will only on Normal disconnection (MQTT-3.1.2-10): 0x04 asks for
        // it, and so does any error code. 3.1.1 discards it on any DISCONNECT (MQTT-3.14.4-3).
        let keep_will =
            c.version.is_v5() && disconnect.reason_code != ReasonCode::NORMAL_DISCONNECTION;
        c.disconnected_cleanly = !keep_will;
        if let Some(requested) = disconnect.properties.session_expiry_interval()
            && let Some(s) = self.sessions.get_mut(&client_id)
        {
            // 5.0 §3.14.2.2.2: non-zero after a zero in CONNECT is a Protocol Error.
            if s.expiry_interval == 0 && requested != 0 {
                self.close_with(conn, ReasonCode::PROTOCOL_ERROR);
                return;
            }
            s.expiry_interval = self
                .config
                .session_expiry_cap
                .map_or(requested, |cap| requested.min(cap));
        }
        if !keep_will && let Some(s) = self.sessions.get_mut(&client_id) {
            s.will = None;
        }
        self.detach_session(now, conn);
        self.close(conn, None);
    }
}

#[cfg(test)]
mod tests;
