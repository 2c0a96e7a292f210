//! The notebook (`examples/notebook.py`, PyPI `datafusion`) runs the project's SQL files and
//! returns exactly what `foci-hunt hunt` returns on the same input.
//!
//! It needs a Python with the packages of `examples/requirements.txt`: `FOCI_HUNT_PYTHON`
//! names it (`.ci/run` builds one), else `python3` is tried. Without one the test says so and
//! passes, except under CI (`CI` set), where it fails.

use std::path::Path;
use std::process::Command;

fn python() -> Option<String> {
    let candidate = std::env::var("FOCI_HUNT_PYTHON").unwrap_or_else(|_| "python3".into());
    let usable = Command::new(&candidate).args(["-c", "import datafusion, pyarrow, matplotlib"]).output().is_ok_and(|o| o.status.success());
    usable.then_some(candidate)
}

#[test]
fn notebook_alerts_equal_hunt_alerts() {
    let Some(python) = python() else {
        assert!(std::env::var_os("CI").is_none(), "CI must provide FOCI_HUNT_PYTHON (see .ci/run)");
        eprintln!("notebook test skipped: no Python with examples/requirements.txt installed (set FOCI_HUNT_PYTHON)");
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let input = root.join("data/samples/signins.ndjson");
    let dir = tempfile::tempdir().unwrap();
    for settings in [vec![], vec!["cli_tuning=global-admin-noncompliant"], vec!["max_time_diff=90"]] {
        let alerts = dir.path().join("alerts.ndjson");
        let plot = dir.path().join("per_day.png");
        let mut notebook = Command::new(&python);
        notebook.arg(root.join("examples/notebook.py")).arg("--input").arg(&input).arg("--out").arg(&alerts).arg("--plot").arg(&plot);
        let mut hunt = Command::new(env!("CARGO_BIN_EXE_foci-hunt"));
        hunt.args(["hunt", "--quiet", "--output-format", "ndjson", "--input"]).arg(&input);
        for setting in &settings {
            notebook.args(["--set", setting]);
            hunt.args(["--set", setting]);
        }
        let ran = notebook.output().unwrap();
        assert!(ran.status.success(), "{}", String::from_utf8_lossy(&ran.stderr));
        let expected = hunt.output().unwrap();
        assert!(expected.status.success());
        let from_notebook = std::fs::read_to_string(&alerts).unwrap();
        assert_eq!(from_notebook, String::from_utf8_lossy(&expected.stdout), "{settings:?}");
        assert!(!from_notebook.is_empty());
        assert!(std::fs::metadata(&plot).unwrap().len() > 1000, "the plot is drawn");
    }
}
