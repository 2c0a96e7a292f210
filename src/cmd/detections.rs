//! `foci-hunt detections [NAME]`: the detection catalog, or one detection with its parameters.

use clap::Args;

use super::Outcome;
use crate::detection::{self, Detection};
use crate::error::Result;

#[derive(Debug, Args)]
pub struct DetectionsArgs {
    /// Show this detection in full instead of listing them all.
    pub name: Option<String>,
}

pub fn run(args: DetectionsArgs) -> Result<Outcome> {
    match args.name {
        None => {
            for detection in detection::catalog()? {
                println!("{:<4} {}  [{}]", detection.name, detection.title, mitre_ids(&detection).join(", "));
            }
        }
        Some(name) => print!("{}", describe(&detection::find(&name)?, &detection::base_set()?)),
    }
    Ok(Outcome::Clean)
}

fn mitre_ids(detection: &Detection) -> Vec<&str> {
    detection.mitre.iter().filter_map(|m| m.split_whitespace().next()).collect()
}

/// A detection's card: what it finds, its techniques, columns and parameters, including the
/// window parameters of the FOCI base set it reads.
pub fn describe(detection: &Detection, base: &Detection) -> String {
    let mut text = format!("{} — {}\n\n{}\n\nMITRE ATT&CK:\n", detection.name, detection.title, detection.description);
    for technique in &detection.mitre {
        text.push_str(&format!("  {technique}\n"));
    }
    text.push_str(&format!("\nOutput columns ({}):\n  {}\n\nParameters (--set NAME=VALUE):\n", detection.output_columns.len(), detection.output_columns.join(", ")));
    for param in detection.params.iter().chain(&base.params) {
        let default = param.default.as_deref().unwrap_or("none");
        text.push_str(&format!("  {:<14} {:<50} default {:<5} {}\n", param.name, param.kind.to_string(), default, param.meaning));
    }
    text
}
