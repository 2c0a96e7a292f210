//! The SQL workbench: scripted (`-c`, `-f`) outputs pinned by snapshots, the read-only guard,
//! and interactive sessions driven through a pseudo-terminal.

use std::path::Path;
use std::process::{Command, Output};

fn sample() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/samples/signins.ndjson").display().to_string()
}

fn sql(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_foci-hunt")).arg("sql").arg("--input").arg(sample()).args(args).output().unwrap()
}

fn text(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn commands_run_over_the_registered_views() {
    let output = sql(&[
        "--output-format", "csv",
        "-c", "SELECT AppDisplayName, count(*) AS sign_ins FROM signin_logs GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 4",
        "-c", "SELECT SessionId, SecondAppDisplayName, TimeDiff FROM foci_token_logins ORDER BY FirstRequestTimeGenerated",
        "-c", "SELECT count(*) AS base_set FROM foci_token_requests; SELECT count(*) AS v2 FROM foci_token_logins_v2;",
        "-c", "\\d",
    ]);
    insta::assert_snapshot!("workbench_commands", text(&output));
}

#[test]
fn a_script_rebinds_the_detection_views_with_set() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("triage.sql");
    std::fs::write(
        &script,
        "-- how many alerts, before and after tuning\nSELECT count(*) AS alerts\n  FROM foci_token_logins;\n\\set max_time_diff 90\nSELECT count(*) AS alerts FROM foci_token_logins;\n\\set cli_tuning global-admin-noncompliant\nSELECT count(*) AS alerts FROM foci_token_logins;\n\\params\n",
    )
    .unwrap();
    let output = sql(&["--output-format", "ndjson", "-f", &script.display().to_string()]);
    insta::assert_snapshot!("workbench_script", text(&output));
}

#[test]
fn describe_lists_columns_and_types() {
    let output = sql(&["-c", "\\d foci_token_logins"]);
    let described = text(&output);
    assert!(described.starts_with("FirstRequestTimeGenerated"), "{described}");
    assert_eq!(described.lines().count(), 23);
    assert!(described.contains("SeconIncomingTokenType"));
}

#[test]
fn writing_needs_allow_write_and_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.csv").display().to_string();
    let copy = format!("COPY (SELECT 1 AS one) TO '{target}' STORED AS CSV");
    let refused = sql(&["-c", &copy]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--allow-write"));
    assert!(!Path::new(&target).exists());
    let allowed = sql(&["--allow-write", "-c", &copy]);
    assert_eq!(allowed.status.code(), Some(0), "{}", String::from_utf8_lossy(&allowed.stderr));
    assert!(Path::new(&target).exists());
    // Views and settings are fine read-only.
    text(&sql(&["-c", "CREATE VIEW mine AS SELECT 1 AS one", "-c", "SET datafusion.execution.batch_size = 1024"]));

    let failed = sql(&["-c", "SELECT 1 AS ok", "-c", "SELECT nope FROM signin_logs", "-c", "SELECT 2 AS never"]);
    assert_eq!(failed.status.code(), Some(2));
    let out = String::from_utf8_lossy(&failed.stdout);
    assert!(out.contains("\"ok\":1") && !out.contains("never"), "stops at the first error: {out}");
    assert_eq!(String::from_utf8_lossy(&failed.stderr).lines().count(), 1);
}

mod interactive {
    use super::*;
    use rexpect::session::{PtySession, spawn_command};

    fn shell(home: &Path) -> PtySession {
        let mut command = Command::new(env!("CARGO_BIN_EXE_foci-hunt"));
        command.args(["sql", "--input", &sample(), "--output-format", "csv"]).env("XDG_DATA_HOME", home).env("TERM", "vt100");
        let mut session = spawn_command(command, Some(60_000)).unwrap();
        session.exp_string("foci-hunt>").unwrap();
        session
    }

    #[test]
    fn multi_line_statements_set_errors_and_quit() {
        let home = tempfile::tempdir().unwrap();
        let mut session = shell(home.path());
        session.send_line("SELECT count(*) AS alerts").unwrap();
        session.exp_string("...>").unwrap();
        session.send_line("  FROM foci_token_logins;").unwrap();
        session.exp_string("alerts").unwrap();
        session.exp_string("6").unwrap();
        session.exp_string("foci-hunt>").unwrap();

        session.send_line("\\set max_time_diff 90").unwrap();
        session.exp_string("foci-hunt>").unwrap();
        session.send_line("SELECT count(*) * 100 AS tuned FROM foci_token_logins;").unwrap();
        session.exp_string("tuned").unwrap();
        session.exp_string("500").unwrap();

        // Tab completes meta-commands and table names.
        session.send("\\detec\t").unwrap();
        session.send_line("").unwrap();
        session.exp_string("view foci_token_logins_v2").unwrap();
        session.send("SELECT count(*) AS pairs FROM foci_token_pa\t").unwrap();
        session.send_line(";").unwrap();
        session.exp_string("pairs").unwrap();
        session.exp_string("foci-hunt>").unwrap();

        session.send_line("SELECT missing_column FROM signin_logs;").unwrap();
        session.exp_string("error:").unwrap();
        session.send_line("SELECT 40 + 2 AS answer;").unwrap();
        session.exp_string("answer").unwrap();
        session.exp_string("42").unwrap();
        session.exp_string("foci-hunt>").unwrap();
        session.send_line("\\q").unwrap();
        session.exp_eof().unwrap();
        let history = std::fs::read_to_string(home.path().join("foci-hunt/history")).unwrap();
        assert!(history.contains("SELECT 40 + 2 AS answer;"), "{history}");
    }

    #[test]
    fn ctrl_c_cancels_a_long_query_and_keeps_the_shell() {
        let home = tempfile::tempdir().unwrap();
        let mut session = shell(home.path());
        session.send_line("SELECT count(*) FROM generate_series(1, 100000000000) a;").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1500));
        session.send_control('c').unwrap();
        session.exp_string("query cancelled").unwrap();
        session.send_line("SELECT 'still here' AS status;").unwrap();
        session.exp_string("still here").unwrap();
        // Keys typed before the line editor has the terminal in raw mode again are cooked by
        // the terminal, and a Ctrl-D can be lost: wait for the prompt.
        session.exp_string("foci-hunt>").unwrap();
        session.send_control('d').unwrap();
        session.exp_eof().unwrap();
    }
}
