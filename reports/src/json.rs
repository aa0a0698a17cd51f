//! The JSON results file: [`crate::RunResults`] as pretty-printed JSON.

use std::io;

use crate::model::RunResults;

pub fn write(results: &RunResults, out: &mut impl io::Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, results)?;
    out.write_all(b"\n")
}

pub fn read(input: &str) -> Result<RunResults, serde_json::Error> {
    serde_json::from_str(input)
}
