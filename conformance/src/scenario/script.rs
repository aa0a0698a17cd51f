//! A scenario's sending side worked out without a broker: for each step, which client opens,
//! sends which bytes, waits or closes. Expectations are left out, and values a case would
//! capture from the broker (`$pid`) stand in as 1.
//!
//! The fuzzers start from these scripts: `fuzz/` writes its seed corpora from them and
//! `mqttspec fuzz` mutates them.

use std::time::Duration;

use bytes::Bytes;
use mqttspec_codec::{Disconnect, Packet, ReasonCode};

use super::packet::{ConnectSpec, Resolve, encode, properties};
use super::{Scenario, Step, Version};

/// What one client does at one step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Open a new network connection (dropping an older one of the same client).
    Open,
    /// Write these bytes `repeat` times.
    Send { bytes: Bytes, repeat: u32 },
    /// Close the connection, after a DISCONNECT if `Some`.
    Close(Option<Bytes>),
    /// Let time pass.
    Wait(Duration),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptStep {
    /// The scenario's name for the client (`a`, `pub`, `sub`, …); empty for `Wait`.
    pub client: String,
    pub action: Action,
}

/// Names used in place of a case's: `{prefix}` and the stem of client identifiers.
pub struct Names {
    pub prefix: String,
    pub id_stem: String,
}

impl Names {
    /// The client identifier of `client`: the stem and the name, at most 23 characters
    /// (MQTT-3.1.3-5).
    pub fn client_id(&self, client: &str) -> String {
        let mut id = format!("{}{client}", self.id_stem);
        id.truncate(23);
        id
    }

    /// `{prefix}` and `{client_id:NAME}` filled in.
    pub fn interpolate(&self, text: &str) -> String {
        let mut out = text.replace("{prefix}", &self.prefix);
        let mut from = 0;
        while let Some(start) = out[from..].find("{client_id:").map(|i| i + from) {
            let Some(len) = out[start..].find('}') else {
                break;
            };
            let name = out[start + 11..start + len].to_owned();
            let id = self.client_id(&name);
            out.replace_range(start..=start + len, &id);
            // Resume after the replacement: an id never re-triggers a substitution.
            from = start + id.len();
        }
        out
    }
}

impl Resolve for Names {
    fn interpolate(&self, text: &str) -> String {
        Names::interpolate(self, text)
    }

    fn var(&self, _name: &str) -> Result<u64, String> {
        Ok(1)
    }

    fn bytes_var(&self, _name: &str) -> Result<Vec<u8>, String> {
        Ok(vec![1])
    }
}

/// The sending side of `scenario` under `version`. A step whose packet cannot be built
/// offline (e.g. a tampering that needs a captured value) is an error naming the step.
pub fn script(
    scenario: &Scenario,
    version: Version,
    names: &Names,
) -> Result<Vec<ScriptStep>, String> {
    let v = version.protocol();
    let mut out = Vec::new();
    for (n, step) in scenario.steps.iter().enumerate() {
        if !step.applies_to(version) {
            continue;
        }
        let at = |e: String| format!("step {}: {e}", n + 1);
        match step {
            Step::Connect(c) => {
                out.push(ScriptStep {
                    client: c.client.clone(),
                    action: Action::Open,
                });
                if c.open_only {
                    continue;
                }
                let spec = ConnectSpec {
                    client_id: c.client_id.clone(),
                    clean_start: c.clean_start,
                    keep_alive: c.keep_alive,
                    username: c.username.clone(),
                    password: c.password.clone(),
                    will: c.will.clone(),
                    properties: c.properties.clone(),
                    protocol: c.protocol,
                };
                let connect = spec
                    .build(names, v, &names.client_id(&c.client))
                    .map_err(at)?;
                let wire = connect.protocol;
                let bytes =
                    encode(&Packet::Connect(connect), wire, &c.tamper, names).map_err(at)?;
                out.push(ScriptStep {
                    client: c.client.clone(),
                    action: Action::Send { bytes, repeat: 1 },
                });
            }
            Step::Send(s) => {
                let bytes = s.bytes(names, v).map_err(at)?;
                out.push(ScriptStep {
                    client: s.client.clone(),
                    action: Action::Send {
                        bytes,
                        repeat: s.repeat.unwrap_or(1),
                    },
                });
            }
            Step::Disconnect(d) => {
                let packet = Packet::Disconnect(Disconnect {
                    reason_code: ReasonCode(d.reason_code.unwrap_or(0)),
                    properties: properties(&d.properties, names).map_err(at)?,
                });
                let bytes = encode(&packet, v, &[], names).map_err(at)?;
                out.push(ScriptStep {
                    client: d.client.clone(),
                    action: Action::Close(Some(bytes)),
                });
            }
            Step::Drop(d) => {
                out.push(ScriptStep {
                    client: d.client.clone(),
                    action: Action::Close(None),
                });
            }
            Step::Wait(w) => out.push(ScriptStep {
                client: String::new(),
                action: Action::Wait(Duration::from_millis(w.ms)),
            }),
            Step::Expect(_)
            | Step::ExpectAll(_)
            | Step::SkipUnless(_)
            | Step::ExpectClosed(_)
            | Step::ExpectNothing(_)
            | Step::ExpectValid(_)
            | Step::ExpectAlive(_) => {}
        }
    }
    Ok(out)
}
