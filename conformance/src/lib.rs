//! # mqttspec
//!
//! The scenario engine behind the `mqttspec` command: scenarios ([`scenario`]) are loaded,
//! checked against the spec manifest, and run concurrently against a broker ([`engine`]);
//! the results ([`mqttspec_report::RunResults`]) feed the report renderers. [`coverage`]
//! accounts for every normative statement: tested, a Client duty, untestable, or pending.

pub mod coverage;
pub mod engine;
pub mod fuzz;
pub mod launch;
pub mod scenario;

/// The built-in scenarios, embedded at build time from `scenarios/`.
pub mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin_scenarios.rs"));

    /// The built-in catalog (checked by a test, so loading cannot fail in a release).
    pub fn catalog() -> Result<crate::scenario::Catalog, Vec<crate::scenario::LoadError>> {
        crate::scenario::Catalog::from_sources(BUILTIN.iter().copied())
    }
}
