//! `wattledger exporter` as a real process on the fake NVML, scraped by a
//! real Prometheus server (Debian's `prometheus` package; `.ci/run`
//! installs it) and checked by `promtool`.
//!
//! Everything listens on 127.0.0.1 only, every wait is bounded, and a guard
//! kills every process the test started, also when an assertion fails.
//! `WATTLEDGER_SKIP_PROMETHEUS=1` skips the Prometheus test with a message
//! (for machines without the package); otherwise a missing `prometheus` fails.

#[path = "../../std-adapters/tests/support/fake_nvml.rs"]
mod fake_nvml;
#[path = "../../std-adapters/tests/fixtures/jetson_trees.rs"]
mod trees;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The scenario: an H100 at 350 W with three MIG instances whose counter
/// resets 4 s after init, and a plain H100 at 250 W.
const SCENARIO: &str = "h100_mig_gpm";
const MIG_GPU: &str = "GPU-9d3e1f20-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
const PLAIN_GPU: &str = "GPU-77aa0000-0000-4000-8000-000000000001";

/// Kills (SIGTERM, then SIGKILL) and reaps every child on drop.
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for c in &mut self.0 {
            if let Ok(None) = c.try_wait() {
                // SAFETY: kill(2) on our own child's pid.
                unsafe {
                    libc::kill(c.id() as i32, libc::SIGTERM);
                }
                let deadline = Instant::now() + Duration::from_secs(5);
                while Instant::now() < deadline && matches!(c.try_wait(), Ok(None)) {
                    std::thread::sleep(Duration::from_millis(50));
                }
                let _ = c.kill();
            }
            let _ = c.wait();
        }
    }
}

/// Start the exporter on the fake NVML, listening on `listen` (port 0: a
/// free port); the address it listens on.
fn start_exporter(children: &mut Children, listen: &str, interval_ms: u32) -> SocketAddr {
    start(
        children,
        &["--listen", listen, "--interval", &interval_ms.to_string()],
    )
}

/// Start `wattledger exporter ARGS` on the fake NVML; the address it prints.
fn start(children: &mut Children, args: &[&str]) -> SocketAddr {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wattledger"))
        .arg("exporter")
        .args(args)
        .env("WATTLEDGER_NVML_LIB", fake_nvml::library())
        .env("FAKE_NVML_SCENARIO", fake_nvml::scenario_path(SCENARIO))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start wattledger exporter");
    let stderr = child.stderr.take().unwrap();
    children.0.push(child);
    // The first stderr line names the address (port 0 picks a free one).
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let line = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the exporter printed no address within 20 s");
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or_else(|| panic!("no address in: {line}"));
    addr.parse().unwrap()
}

/// GET `path` from `addr` (HTTP/1.0: the body ends at close); status, body.
fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read response");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, body.to_string())
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An instant query: (labels, value) per series.
fn query(prom: SocketAddr, q: &str) -> Vec<(Value, f64)> {
    let (status, body) = get(prom, &format!("/api/v1/query?query={}", url_encode(q)));
    assert_eq!(status, 200, "query {q}: {body}");
    let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(v["status"], "success", "{body}");
    v["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let value: f64 = r["value"][1].as_str().unwrap().parse().unwrap();
            (r["metric"].clone(), value)
        })
        .collect()
}

fn one(prom: SocketAddr, q: &str) -> f64 {
    let r = query(prom, q);
    assert_eq!(r.len(), 1, "{q}: {r:?}");
    r[0].1
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn promtool_check(scrape: &str) {
    let mut c = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (apt-get install prometheus) is needed for this test");
    c.stdin
        .take()
        .unwrap()
        .write_all(scrape.as_bytes())
        .unwrap();
    let out = c.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn wait_until(what: &str, deadline: Instant, mut ok: impl FnMut() -> bool) {
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn the_exporter_answers_promtool_healthz_and_stops_on_sigterm() {
    let mut children = Children(Vec::new());
    let addr = start_exporter(&mut children, "127.0.0.1:0", 100);
    assert_eq!(get(addr, "/healthz"), (200, "ok\n".to_string()));
    assert_eq!(get(addr, "/nothing").0, 404);
    let (status, scrape) = get(addr, "/metrics");
    assert_eq!(status, 200);
    promtool_check(&scrape);
    // Three MIG instances, each with an info series and an estimate.
    assert_eq!(
        scrape.matches("wattledger_mig_instance_info{").count(),
        3,
        "{scrape}"
    );
    assert_eq!(
        scrape
            .matches("wattledger_mig_estimated_energy_joules_total{")
            .count(),
        3
    );
    assert!(scrape.contains("basis=\"gpm-activity\""));
    // SIGTERM: a clean stop, exit 0, within a few seconds.
    let child = &mut children.0[0];
    // SAFETY: kill(2) on our own child's pid.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "no exit within 5 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
}

#[test]
fn the_exporter_serves_jetson_rails_with_their_roles() {
    let dir = tempfile::tempdir().unwrap();
    trees::orin_nano(dir.path());
    let source = format!("jetson:{}", dir.path().display());
    let mut children = Children(Vec::new());
    let addr = start(
        &mut children,
        &[
            "--listen",
            "127.0.0.1:0",
            "--interval",
            "50",
            "--source",
            &source,
        ],
    );
    std::thread::sleep(Duration::from_millis(300));
    let (status, scrape) = get(addr, "/metrics");
    assert_eq!(status, 200);
    promtool_check(&scrape);
    // Orin Nano: VDD_IN (5032 mV × 1380 mA = 6944 mW) is the input, the
    // other two rails are inside it.
    for line in [
        "wattledger_rail_power_watts{rail=\"VDD_IN\",role=\"total\"} 6.944",
        "wattledger_rail_power_watts{rail=\"VDD_CPU_GPU_CV\",role=\"part\"}",
        "wattledger_rail_power_watts{rail=\"VDD_SOC\",role=\"part\"}",
        "wattledger_rail_energy_joules_total{rail=\"VDD_IN\",role=\"total\"}",
    ] {
        assert!(scrape.contains(line), "{line} missing from:\n{scrape}");
    }
}

#[test]
fn the_exporter_refuses_a_replay_and_a_bad_interval() {
    for args in [
        &["--source", "replay:/nonexistent"][..],
        &["--interval", "5"][..],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_wattledger"))
            .arg("exporter")
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
    }
}

#[test]
fn a_real_prometheus_sees_true_counters_and_instances_that_add_up() {
    if std::env::var("WATTLEDGER_SKIP_PROMETHEUS").as_deref() == Ok("1") {
        eprintln!("SKIPPED: WATTLEDGER_SKIP_PROMETHEUS=1 (the real-Prometheus test did not run)");
        return;
    }
    let prometheus = "/usr/bin/prometheus";
    assert!(
        std::path::Path::new(prometheus).is_file(),
        "{prometheus} is missing: apt-get install prometheus (or set WATTLEDGER_SKIP_PROMETHEUS=1 to skip)"
    );
    let mut children = Children(Vec::new());
    // Prometheus first, so that it scrapes the exporter from its start and
    // sees the counter before and after the reset.
    let exporter: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: wattledger\n    static_configs:\n      - targets: ['{exporter}']\n"
        ),
    )
    .unwrap();
    let prom: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let child = Command::new(prometheus)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address={prom}"))
        .arg("--log.level=warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start prometheus");
    children.0.push(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    wait_until("Prometheus to be ready", deadline, || {
        TcpStream::connect_timeout(&prom, Duration::from_millis(200)).is_ok()
            && get(prom, "/-/ready").0 == 200
    });
    // Its scrape loop runs (the target is down: `up` is 0) before the
    // exporter starts, so the scrapes cover the exporter from its start.
    wait_until("Prometheus's first scrape", deadline, || {
        !query(prom, "up").is_empty()
    });
    // Poll every 50 ms: each scrape shows a value at most 50 ms old, so over
    // the ~8 s compared the rate is off by at most 50/8000 < 1 %.
    assert_eq!(
        start_exporter(&mut children, &exporter.to_string(), 50),
        exporter
    );
    let started = Instant::now();
    // The fake's counter resets 4 s after init; wait until Prometheus has
    // seen the reset counted, then for a few more scrapes after it.
    wait_until("a scrape after the counter reset", deadline, || {
        query(
            prom,
            &format!("wattledger_energy_resets_total{{gpu_uuid=\"{MIG_GPU}\"}}"),
        )
        .first()
        .is_some_and(|(_, v)| *v >= 1.0)
    });
    let after_reset = Instant::now();
    wait_until("three more scrapes", deadline, || {
        after_reset.elapsed() > Duration::from_secs(3)
    });
    assert!(started.elapsed() < Duration::from_secs(40));
    let samples = one(
        prom,
        &format!("count_over_time(wattledger_energy_joules_total{{gpu_uuid=\"{MIG_GPU}\"}}[1m])"),
    );
    // About 4 before the reset and 3 after.
    assert!(samples >= 6.0, "only {samples} scrapes");
    // rate() divides by the whole window, so the window must lie within the
    // scraped span ((samples - 1) s at 1 s per scrape).
    let window = format!("{}s", (samples as u32 - 2).max(5));

    // The true counter: Prometheus sees no reset although NVML's counter reset.
    for (labels, resets) in query(prom, "resets(wattledger_energy_joules_total[1m])") {
        assert_eq!(resets, 0.0, "{labels}");
    }
    for (labels, resets) in query(
        prom,
        "resets(wattledger_mig_estimated_energy_joules_total[1m])",
    ) {
        assert_eq!(resets, 0.0, "{labels}");
    }
    // rate() matches the fake's power within 2 %: 350 W (through the reset,
    // bridged by power) and 250 W.
    for (uuid, watts) in [(MIG_GPU, 350.0), (PLAIN_GPU, 250.0)] {
        let rate = one(
            prom,
            &format!("rate(wattledger_energy_joules_total{{gpu_uuid=\"{uuid}\"}}[{window}])"),
        );
        assert!(
            (rate - watts).abs() <= 0.02 * watts,
            "{uuid}: rate {rate} W, expected {watts} W"
        );
    }
    // The instances' estimates add up to the parent: at the same instant
    // (every scrape shows one snapshot) and as rates.
    let parent = one(
        prom,
        &format!("wattledger_energy_joules_total{{gpu_uuid=\"{MIG_GPU}\"}}"),
    );
    let sum = one(
        prom,
        &format!("sum(wattledger_mig_estimated_energy_joules_total{{gpu_uuid=\"{MIG_GPU}\"}})"),
    );
    assert!((sum - parent).abs() <= 1e-9 * parent, "{sum} vs {parent}");
    let rate_sum = one(
        prom,
        &format!(
            "sum(rate(wattledger_mig_estimated_energy_joules_total{{gpu_uuid=\"{MIG_GPU}\"}}[{window}]))"
        ),
    );
    assert!(
        (rate_sum - 350.0).abs() <= 0.02 * 350.0,
        "instances: {rate_sum} W"
    );
    // The split follows the scripted activity: the 3g instance at 60 %
    // gets 70·3/6 + 280·1.8/2.4 = 245 W of 350 (see fleet_nvml.rs).
    let big = one(
        prom,
        &format!(
            "rate(wattledger_mig_estimated_energy_joules_total{{mig_profile=\"3g.40gb\"}}[{window}])"
        ),
    );
    assert!((big - 245.0).abs() <= 0.02 * 245.0, "3g.40gb: {big} W");
    // Nothing lost, and the info series are there.
    assert_eq!(one(prom, "sum(wattledger_device_lost)"), 0.0);
    assert_eq!(one(prom, "count(wattledger_mig_instance_info)"), 3.0);
}
