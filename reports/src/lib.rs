//! # mqttspec-report
//!
//! The results model of an mqttspec run ([`model`]) and its renderers. The model is plain
//! serde data: the engine produces it, renderers read it, and neither knows the other.
//!
//! - [`json`]: the versioned JSON results file (`schema_version` [`model::SCHEMA_VERSION`]).

pub mod json;
pub mod model;

pub use model::{
    BrokerInfo, CaseResult, Direction, Outcome, RunResults, StatementCitation, Summary, ToolInfo,
    TranscriptEntry,
};
