//! `wattledger` under faults, run as a real process: signals, a lost GPU,
//! bad and failing outputs, a report kept off the command's stdout, options
//! that make no sense, and the Prometheus file read by a real parser.

#[path = "support/constant_power.rs"]
mod constant_power;
#[path = "../../std-adapters/tests/support/fake_nvml.rs"]
mod fake_nvml;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn wattledger() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wattledger"))
}

fn with_fake(scenario: &str) -> Command {
    let mut c = wattledger();
    c.env("WATTLEDGER_NVML_LIB", fake_nvml::library())
        .env("FAKE_NVML_SCENARIO", fake_nvml::scenario_path(scenario))
        .env_remove("CUDA_VISIBLE_DEVICES");
    c
}

fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json_file(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Starts `c` in a process group of its own, as a shell starts a foreground
/// job, with SIGINT and SIGTERM at their default disposition (a test
/// harness may run us with SIGINT ignored, which the child would inherit).
fn spawn_in_own_group(c: &mut Command) -> Child {
    c.process_group(0).stdin(Stdio::null());
    // SAFETY: `signal` is async-signal-safe, as pre_exec requires.
    unsafe {
        c.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            libc::signal(libc::SIGTERM, libc::SIG_DFL);
            libc::signal(libc::SIGHUP, libc::SIG_DFL);
            Ok(())
        });
    }
    c.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until `trace` holds at least `n` sample lines: the monitor is
/// polling and, since its signal handlers are set up before the window
/// begins, wattledger is ready for a signal.
fn wait_for_samples(trace: &Path, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let lines = std::fs::read_to_string(trace)
            .map(|t| t.matches("\"type\":\"sample\"").count())
            .unwrap_or(0);
        if lines >= n {
            // The command is spawned right after the window begins.
            std::thread::sleep(Duration::from_millis(300));
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no samples in {}",
            trace.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

struct Outputs {
    _dir: tempfile::TempDir,
    report: PathBuf,
    prom: PathBuf,
    trace: PathBuf,
}

impl Outputs {
    fn new() -> Outputs {
        let dir = tempfile::tempdir().unwrap();
        Outputs {
            report: dir.path().join("report.json"),
            prom: dir.path().join("p.prom"),
            trace: dir.path().join("t.jsonl"),
            _dir: dir,
        }
    }

    /// `measure` with every output, `--json`, polling every 10 ms.
    fn measure(&self, command: &[&str]) -> Command {
        let mut c = with_fake("h100");
        c.args(["measure", "--json", "--interval", "10", "-o"])
            .arg(&self.report)
            .arg("--prometheus")
            .arg(&self.prom)
            .arg("--record")
            .arg(&self.trace)
            .arg("--")
            .args(command);
        c
    }

    /// Every output exists and says the run was interrupted by `signal`.
    fn assert_interrupted(&self, signal: &str) {
        let r = json_file(&self.report);
        assert_eq!(r["interrupted"], true, "{r}");
        assert_eq!(r["interrupted_by"], signal, "{r}");
        // The fake H100 draws a constant 350 W: the energy measured until the
        // command ended is the counter's rise over the window, to the mJ, and
        // 350 W × the window (see constant_power for the tolerance).
        let dev = &r["devices"][0];
        let e = dev["energy_j"].as_f64().unwrap();
        let d = dev["duration_s"].as_f64().unwrap();
        assert!(d > 0.2, "{d}");
        let trace = std::fs::read_to_string(&self.trace).unwrap();
        constant_power::assert_counter_rise(&trace, dev);
        constant_power::assert_power_times_duration(e, d, 350.0);
        let prom = std::fs::read_to_string(&self.prom).unwrap();
        assert!(
            prom.lines().any(|l| l == "wattledger_run_interrupted 1.0"),
            "{prom}"
        );
        assert!(trace.ends_with('\n'));
        assert!(trace.matches("\"type\":\"sample\"").count() > 5, "{trace}");
    }
}

fn send_to_group(child: &Child, sig: i32) {
    // SAFETY: killpg has no memory effects.
    let rc = unsafe { libc::killpg(child.id() as libc::pid_t, sig) };
    assert_eq!(rc, 0);
}

#[test]
fn ctrl_c_forwards_waits_and_reports_everything_flagged_interrupted() {
    let o = Outputs::new();
    let started = Instant::now();
    let child = spawn_in_own_group(&mut o.measure(&["sleep", "30"]));
    wait_for_samples(&o.trace, 5);
    // What a terminal does on Ctrl-C: SIGINT to the foreground group, which
    // holds wattledger and not the command (it has a group of its own).
    send_to_group(&child, libc::SIGINT);
    let out = child.wait_with_output().unwrap();
    // `sleep` dies of the forwarded SIGINT at once, so no grace period.
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(130), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("SIGINT: passed on to `sleep`"));
    o.assert_interrupted("SIGINT");
}

#[test]
fn sigterm_is_forwarded_and_exits_143() {
    let o = Outputs::new();
    let child = spawn_in_own_group(&mut o.measure(&["sleep", "30"]));
    wait_for_samples(&o.trace, 5);
    // SIGTERM (timeout, Slurm) to wattledger alone, not its group.
    // SAFETY: kill has no memory effects.
    assert_eq!(
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) },
        0
    );
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(143), "{}", stderr_of(&out));
    o.assert_interrupted("SIGTERM");
}

#[test]
fn a_command_that_ignores_sigint_is_terminated_after_the_grace_period() {
    let o = Outputs::new();
    let started = Instant::now();
    let child = spawn_in_own_group(&mut o.measure(&["sh", "-c", "trap '' INT; sleep 30"]));
    wait_for_samples(&o.trace, 5);
    let signalled = Instant::now();
    send_to_group(&child, libc::SIGINT);
    let out = child.wait_with_output().unwrap();
    let waited = signalled.elapsed();
    // The forwarded SIGINT is ignored; 3 s later wattledger sends SIGTERM,
    // which ends it: well before the 30 s sleep would have.
    assert!(waited >= Duration::from_millis(2900), "{waited:?}");
    assert!(started.elapsed() < Duration::from_secs(20), "{waited:?}");
    // Exit as for Ctrl-C, whatever it took to stop the command.
    assert_eq!(out.status.code(), Some(130), "{}", stderr_of(&out));
    o.assert_interrupted("SIGINT");
}

#[test]
fn a_second_ctrl_c_kills_at_once() {
    let o = Outputs::new();
    let child = spawn_in_own_group(&mut o.measure(&["sh", "-c", "trap '' INT; sleep 30"]));
    wait_for_samples(&o.trace, 5);
    let signalled = Instant::now();
    send_to_group(&child, libc::SIGINT);
    std::thread::sleep(Duration::from_millis(300));
    send_to_group(&child, libc::SIGINT);
    let out = child.wait_with_output().unwrap();
    assert!(signalled.elapsed() < Duration::from_millis(2900));
    assert_eq!(out.status.code(), Some(130), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("killing `sh` now"));
    o.assert_interrupted("SIGINT");
}

#[test]
fn kill_9_leaves_a_trace_that_replays_and_a_cut_line_is_tolerated() {
    let o = Outputs::new();
    let mut child = spawn_in_own_group(&mut o.measure(&["sleep", "2"]));
    wait_for_samples(&o.trace, 10);
    child.kill().unwrap(); // SIGKILL to wattledger alone
    let _ = child.wait();
    let text = std::fs::read_to_string(&o.trace).unwrap();
    assert!(text.ends_with('\n'), "a line was cut: {text}");
    let replay = |path: &Path| {
        wattledger()
            .args(["measure", "--json", "-o", "/dev/stdout", "--source"])
            .arg(format!("replay:{}", path.display()))
            .output()
            .unwrap()
    };
    let out = replay(&o.trace);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    let e = d["devices"][0]["energy_j"].as_f64().unwrap();
    let dur = d["devices"][0]["duration_s"].as_f64().unwrap();
    assert!(dur > 0.05, "{dur}");
    constant_power::assert_counter_rise(&text, &d["devices"][0]);
    constant_power::assert_power_times_duration(e, dur, 350.0);

    // A recorder killed in the middle of a line leaves it cut short: the
    // trace is read up to the line before, with a warning.
    let lines = text.lines().count();
    let cut = o.trace.with_file_name("cut.jsonl");
    std::fs::write(
        &cut,
        format!("{text}{{\"type\":\"sample\",\"device\":0,\"t_ns\":99"),
    )
    .unwrap();
    let out = replay(&cut);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(d["devices"][0]["energy_j"].as_f64().unwrap(), e);
    let warning = format!("line {} is cut short", lines + 1);
    assert!(
        d["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains(&warning)),
        "{d}"
    );
}

#[test]
fn a_lost_gpu_is_uncovered_flagged_left_out_and_exits_5() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let trace = dir.path().join("t.jsonl");
    let out = with_fake("gpu_lost")
        .args(["measure", "--json", "-o"])
        .arg(&report)
        .arg("--record")
        .arg(&trace)
        .args(["--", "sleep", "0.6"])
        .output()
        .unwrap();
    // The command succeeded; the measurement is incomplete.
    assert_eq!(out.status.code(), Some(5), "{}", stderr_of(&out));
    let e = stderr_of(&out);
    assert!(e.contains("warning: nvml device 0"), "{e}");
    assert!(e.contains("left out of the total"), "{e}");
    let check = |r: &Value| {
        let d0 = &r["devices"][0];
        let d1 = &r["devices"][1];
        // GPU 0 falls off the bus 300 ms after init: its window still runs
        // to the end (at least the 0.6 s the command slept), the time after
        // its last reading is uncovered.
        let dur0 = d0["duration_s"].as_f64().unwrap();
        assert!(dur0 >= 0.6, "{r}");
        assert!((dur0 - d1["duration_s"].as_f64().unwrap()).abs() < 0.05);
        let cov = d0["coverage"].as_f64().unwrap();
        // Readings until at most 0.3 s of a window of at least 0.6 s.
        assert!(cov > 0.0 && cov <= 0.3 / 0.6 + 1e-9, "{cov}");
        assert!(
            d0["flags"]
                .as_array()
                .unwrap()
                .contains(&"device_lost".into())
        );
        assert_eq!(d0["in_total"], false);
        assert_eq!(d1["in_total"], true);
        assert_eq!(r["incomplete"], true);
        // The total is GPU 1's alone.
        assert_eq!(r["total_energy_j"], d1["energy_j"]);
        // GPU 0 drew 250 W until lost: 250 W × at most 0.3 s.
        assert!(d0["energy_j"].as_f64().unwrap() <= 250.0 * 0.3 + 0.002);
    };
    check(&json_file(&report));
    // The trace records the loss, so a replay reports it the same way.
    let text = std::fs::read_to_string(&trace).unwrap();
    assert_eq!(text.matches("\"type\":\"lost\",\"device\":0").count(), 1);
    let out = wattledger()
        .args(["measure", "--json", "-o", "/dev/stdout", "--source"])
        .arg(format!("replay:{}", trace.display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", stderr_of(&out));
    check(&serde_json::from_slice(&out.stdout).unwrap());
    // Human report: the Total says it is incomplete.
    let out = with_fake("gpu_lost")
        .args(["measure", "--", "sleep", "0.4"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert!(stderr_of(&out).contains("(incomplete: a lost device is left out)"));
    // A failing command keeps its own code.
    let out = with_fake("gpu_lost")
        .args(["measure", "--", "sh", "-c", "sleep 0.4; exit 3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn the_report_never_goes_to_the_commands_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let out = with_fake("h100")
        .args(["measure", "--json", "--", "echo", "hello"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, b"hello\n");
    let e = stderr_of(&out);
    let report: Value = serde_json::from_str(&e).unwrap_or_else(|x| panic!("{x}: {e}"));
    assert_eq!(report["command"][0], "echo");
    // -o FILE: the report there, stdout still the command's alone.
    let file = dir.path().join("r.json");
    let out = with_fake("h100")
        .args(["measure", "--json", "-o"])
        .arg(&file)
        .args(["--", "echo", "hello"])
        .output()
        .unwrap();
    assert_eq!(out.stdout, b"hello\n");
    assert_eq!(json_file(&file)["exit_code"], 0);
}

#[test]
fn outputs_are_checked_before_the_command_runs() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let touch = ["--", "touch", marker.to_str().unwrap()];
    let cases: [(&str, PathBuf, &str); 4] = [
        ("-o", PathBuf::from("/nonexistent/x.txt"), "does not exist"),
        ("--prometheus", dir.path().to_path_buf(), "is a directory"),
        (
            "--record",
            PathBuf::from("/nonexistent/t.jsonl"),
            "does not exist",
        ),
        ("-o", PathBuf::from("/proc/x.txt"), "cannot create a file"),
    ];
    for (option, path, words) in cases {
        let out = with_fake("h100")
            .args(["measure", option])
            .arg(&path)
            .args(touch)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{option} {}", path.display());
        let e = stderr_of(&out);
        assert_eq!(e.lines().count(), 1, "{e}");
        assert!(e.contains(words), "{e}");
        assert!(
            !marker.exists(),
            "the command ran despite {option} {}",
            path.display()
        );
    }
}

/// A pipe whose reader has already gone: every write to it is EPIPE.
fn closed_pipe() -> std::io::PipeWriter {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    writer
}

#[test]
fn a_closed_pipe_ends_output_quietly() {
    for args in [
        &["estimate"][..],
        &["estimate", "--json"],
        &["mig-profiles"],
        &["mig-profiles", "--json"],
    ] {
        let out = wattledger()
            .args(args)
            .stdout(closed_pipe())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr_of(&out));
        assert_eq!(stderr_of(&out), "", "{args:?}");
    }
    // measure: the report's reader (stderr) gone, the command's code stays.
    let out = with_fake("h100")
        .args(["measure", "--", "sh", "-c", "exit 3"])
        .stderr(closed_pipe())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn a_full_disk_is_one_line_and_exit_1() {
    let full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    for args in [&["estimate"][..], &["mig-profiles"]] {
        let out = wattledger().args(args).stdout(full()).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let e = stderr_of(&out);
        assert_eq!(e.lines().count(), 1, "{e}");
        assert!(e.contains("cannot write to standard output"), "{e}");
        assert!(!e.contains("internal error"), "{e}");
    }
    // -o to a device that is full: the run's outputs fail, exit 1.
    let out = with_fake("h100")
        .args(["measure", "-o", "/dev/full", "--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_of(&out).contains("cannot write /dev/full"));
}

#[test]
fn options_that_make_no_sense_are_usage_errors() {
    let trace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../std-adapters/tests/fixtures/trace-orin-nano.jsonl");
    for interval in ["0", "60001"] {
        let out = with_fake("h100")
            .args(["measure", "--interval", interval, "--", "true"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "--interval {interval}");
        assert!(stderr_of(&out).contains("1..=60000"), "{}", stderr_of(&out));
    }
    // The bounds themselves are accepted.
    for interval in ["1", "60000"] {
        let out = with_fake("h100")
            .args(["measure", "--interval", interval, "--", "true"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "--interval {interval}");
    }
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let out = wattledger()
        .args(["measure", "--source"])
        .arg(format!("replay:{}", trace.display()))
        .args(["--", "touch"])
        .arg(&marker)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("runs nothing"));
    assert!(!marker.exists());
}

#[test]
fn the_prometheus_file_is_valid_and_holds_one_runs_gauges() {
    let dir = tempfile::tempdir().unwrap();
    let prom = dir.path().join("p.prom");
    let report = dir.path().join("r.json");
    let out = with_fake("gpu_lost")
        .args(["measure", "--json", "-o"])
        .arg(&report)
        .arg("--prometheus")
        .arg(&prom)
        .args(["--", "sleep", "0.5"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", stderr_of(&out));
    // A real parser: promtool (Debian's prometheus package).
    let check = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::fs::File::open(&prom).unwrap())
        .output()
        .expect("promtool (apt-get install prometheus) is needed for this test");
    assert!(
        check.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    let text = std::fs::read_to_string(&prom).unwrap();
    let r = json_file(&report);
    // Every family is a gauge: one run's values go down between runs.
    assert!(!text.contains(" counter"), "{text}");
    let value = |series: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no {series} in {text}"))
    };
    let labels = |i: usize| {
        format!(
            "{{source=\"nvml\",device=\"{i}\",gpu_uuid=\"{}\",parent_uuid=\"\",mig_profile=\"\"}}",
            r["devices"][i]["device"]["uuid"].as_str().unwrap()
        )
    };
    assert_eq!(
        value("wattledger_run_total_energy_joules"),
        r["total_energy_j"].as_f64().unwrap()
    );
    assert_eq!(
        value("wattledger_run_duration_seconds"),
        r["wall_s"].as_f64().unwrap()
    );
    assert_eq!(
        value("wattledger_run_start_timestamp_seconds"),
        r["start_unix_s"].as_f64().unwrap()
    );
    assert_eq!(value("wattledger_run_interrupted"), 0.0);
    assert_eq!(value("wattledger_run_incomplete"), 1.0);
    for i in 0..2 {
        let d = &r["devices"][i];
        let l = labels(i);
        assert_eq!(
            value(&format!("wattledger_run_energy_joules{l}")),
            d["energy_j"].as_f64().unwrap()
        );
        assert_eq!(
            value(&format!("wattledger_run_coverage_ratio{l}")),
            d["coverage"].as_f64().unwrap()
        );
        assert_eq!(
            value(&format!("wattledger_run_device_lost{l}")),
            if i == 0 { 1.0 } else { 0.0 }
        );
    }
    assert!(value(&format!("wattledger_run_coverage_ratio{}", labels(0))) < 1.0);
}
