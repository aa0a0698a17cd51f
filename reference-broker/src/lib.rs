//! # mqttspec-broker
//!
//! A small MQTT 3.1, 3.1.1 and 5.0 broker that follows the specifications to the letter:
//! mqttspec's oracle (every scenario must pass against it) and the default target of
//! `mqttspec run`.
//!
//! The protocol logic is sans-IO ([`core`]): packets and the current time go in, packets to
//! send and deadlines come out. [`server`] is the thin tokio shell that accepts
//! connections, reads, writes and sleeps until the next deadline.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let broker = mqttspec_broker::start(mqttspec_broker::Config::default()).await?;
//! println!("listening on {}", broker.local_addr());
//! broker.shutdown().await;
//! # Ok(()) }
//! ```

mod config;
pub mod core;
#[cfg(feature = "planted-bugs")]
pub mod planted;
pub mod server;

pub use config::{Config, parse_users};
#[cfg(feature = "planted-bugs")]
pub use planted::PlantedBug;
pub use server::{BrokerHandle, start};
