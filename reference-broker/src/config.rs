//! What the broker offers and the limits it enforces.

use std::collections::HashMap;
use std::net::SocketAddr;

use mqttspec_codec::QoS;

/// Broker configuration. `Config::default()` is a fully featured broker on an ephemeral
/// loopback port.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where to listen; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Highest QoS accepted from clients (5.0 "Maximum QoS"); 3.1.1 subscriptions are
    /// granted at most this.
    pub maximum_qos: QoS,
    /// Whether retained messages are supported (5.0 "Retain Available").
    pub retain_available: bool,
    /// Largest packet accepted from a client, fixed header included.
    pub maximum_packet_size: u32,
    /// How many unacknowledged QoS 1/2 PUBLISHes a client may have in flight towards us.
    pub receive_maximum: u16,
    /// Highest Topic Alias a client may use towards us (0: none).
    pub topic_alias_maximum: u16,
    /// If set, overrides the client's Keep Alive (5.0 "Server Keep Alive").
    pub server_keep_alive: Option<u16>,
    /// Upper bound on a 5.0 session's expiry interval, in seconds.
    pub session_expiry_cap: Option<u32>,
    /// Unacknowledged QoS 1/2 PUBLISHes the broker has out to one client at most (the
    /// client's Receive Maximum may lower it).
    pub max_inflight_messages: u16,
    /// Messages queued per session (offline, or beyond the client's Receive Maximum) before
    /// new ones are dropped.
    pub max_queued_messages: usize,
    /// Sessions, connected or not, the broker will hold.
    pub max_sessions: usize,
    pub wildcard_subscriptions: bool,
    pub subscription_identifiers: bool,
    pub shared_subscriptions: bool,
    /// If set, CONNECT must carry one of these user name / password pairs.
    pub users: Option<HashMap<String, String>>,
    /// A deliberate bug to misbehave with (test builds only; see [`crate::planted`]).
    #[cfg(feature = "planted-bugs")]
    pub planted_bug: Option<crate::PlantedBug>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            maximum_qos: QoS::ExactlyOnce,
            retain_available: true,
            maximum_packet_size: 1 << 20,
            receive_maximum: 100,
            topic_alias_maximum: 16,
            server_keep_alive: None,
            session_expiry_cap: None,
            max_inflight_messages: 100,
            max_queued_messages: 1000,
            max_sessions: 10_000,
            wildcard_subscriptions: true,
            subscription_identifiers: true,
            shared_subscriptions: true,
            users: None,
            #[cfg(feature = "planted-bugs")]
            planted_bug: None,
        }
    }
}

/// Parses a users file: one `name:password` per line; blank lines and `#` comments ignored.
pub fn parse_users(text: &str) -> Result<HashMap<String, String>, String> {
    let mut users = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, password) = line
            .split_once(':')
            .ok_or_else(|| format!("line {}: expected name:password", n + 1))?;
        users.insert(name.to_owned(), password.to_owned());
    }
    Ok(users)
}
