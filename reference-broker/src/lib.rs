//! The reference MQTT broker (issue: reference broker). Not yet built; see the README roadmap.
