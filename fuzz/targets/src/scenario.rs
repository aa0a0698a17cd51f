//! `scenario`: the YAML scenario loader, family expansion included, never panics and never
//! runs away on any input.
//!
//! Input: the text of a scenario (or family) file; bytes that are not UTF-8 leave the
//! input out. Every scenario that loads is then scripted offline under each version it
//! lists, which builds (and tampers) every packet it would send.

use mqttspec::scenario::Catalog;
use mqttspec::scenario::script::{Names, script};

pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(catalog) = Catalog::from_sources([("fuzz.yaml", text)]) else {
        return;
    };
    let names = Names {
        prefix: "fuzz".into(),
        id_stem: "fz".into(),
    };
    for scenario in &catalog.scenarios {
        for &version in &scenario.versions {
            // Errors are fine (a packet that cannot be built); panics and hangs are not.
            let _ = script(scenario, version, &names);
        }
    }
}
