//! Renders results files: `render FORMAT results.json [more.json …] > out`. With several
//! files and `html`, writes the broker matrix.

use std::io::Write;
use std::process::ExitCode;

use mqttspec_report::{Format, html, json, render};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(format), files) = (args.first(), args.get(1..).unwrap_or_default()) else {
        eprintln!("usage: render json|junit|markdown|html results.json [more.json …]");
        return ExitCode::from(2);
    };
    let format: Format = match format.parse() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let mut runs = Vec::new();
    for file in files {
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{file}: {e}");
                return ExitCode::FAILURE;
            }
        };
        match json::read(&text) {
            Ok(r) => runs.push(r),
            Err(e) => {
                eprintln!("{file}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let mut out = std::io::stdout().lock();
    let result = match (format, runs.as_slice()) {
        (_, []) => {
            eprintln!("no results file given");
            return ExitCode::from(2);
        }
        (_, [one]) => render(format, one, &mut out),
        (Format::Html, many) => html::write_matrix(many, &mut out),
        _ => {
            eprintln!("several results files make only an html matrix");
            return ExitCode::from(2);
        }
    };
    match result.and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
