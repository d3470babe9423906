//! `wattledger exporter`: a long-running Prometheus exporter.
//!
//! Three kinds of thread, none waiting on another's work:
//!
//! - the **poller** ([`wattledger_std::fleet::Poller`]) reads every device
//!   each `--interval` and publishes an immutable snapshot;
//! - a fixed pool of [`WORKERS`] **HTTP workers** answers `/metrics` from the
//!   last snapshot (so a scrape never waits on NVML, and at most that many
//!   scrapes are rendered at once; more wait in tiny_http's queue) and
//!   `/healthz`;
//! - the **main thread** waits for SIGTERM or SIGINT, then stops the workers
//!   and the poller and exits 0.
//!
//! The HTTP server is tiny_http (HTTP/1.1, no TLS: put a proxy in front, or
//! scrape over a private network). It lives here, not in `wattledger-std`,
//! so the library and the C ABI do not depend on an HTTP server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tiny_http::{Header, Method, Request, Response, Server};
use wattledger_std::exporters::daemon::{self, FleetCollector, Format, Registry};
use wattledger_std::fleet::jetson::JetsonFleet;
use wattledger_std::fleet::{FleetConfig, FleetSource, Latest, Poller};
use wattledger_std::sensors::jetson::{JetsonConfig, JetsonSensor};

use crate::{CliError, CliResult, Source, exit, out};

/// Scrapes rendered at once.
pub const WORKERS: usize = 4;
/// The shortest `--interval`, ms: NVML's counters refresh every 20–100 ms.
pub const MIN_INTERVAL_MS: u64 = 10;
/// The longest `--interval`, ms.
pub const MAX_INTERVAL_MS: u64 = 60_000;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address and port to serve /metrics and /healthz on (use
    /// 0.0.0.0:9402 to let a Prometheus server on another host scrape it;
    /// port 0 picks a free port, printed at start).
    #[arg(long, default_value = "127.0.0.1:9402", value_name = "ADDR")]
    listen: SocketAddr,
    /// Where readings come from: nvml, jetson or jetson:ROOT.
    #[arg(long, default_value = "nvml", value_name = "SOURCE")]
    source: Source,
    /// Time between two polls of every device, in milliseconds (10 to 60000).
    #[arg(long, default_value_t = 1000, value_name = "MS",
          value_parser = clap::value_parser!(u64).range(MIN_INTERVAL_MS..=MAX_INTERVAL_MS))]
    interval: u64,
}

fn open_source(source: &Source, config: &FleetConfig) -> CliResult<Box<dyn FleetSource>> {
    match source {
        Source::Nvml => open_nvml(config),
        Source::Jetson(root) => {
            let s = match root {
                None => JetsonSensor::new(),
                Some(r) => JetsonSensor::with_config(JetsonConfig::with_root(r)),
            };
            s.map(|s| Box::new(JetsonFleet::new(s)) as Box<dyn FleetSource>)
                .map_err(|e| CliError::no_device(format!("no Jetson power rails: {e}")))
        }
        Source::Replay(_) => Err(CliError::usage(
            "the exporter watches live devices: use --source nvml, jetson or jetson:ROOT \
             (a trace is analysed with `wattledger measure --source replay:FILE`)",
        )),
    }
}

#[cfg(feature = "nvml")]
fn open_nvml(config: &FleetConfig) -> CliResult<Box<dyn FleetSource>> {
    use wattledger_std::fleet::nvml::NvmlFleet;
    use wattledger_std::sensors::nvml::NvmlSensor;
    NvmlSensor::from_env()
        .map(|s| Box::new(NvmlFleet::new(s, config)) as Box<dyn FleetSource>)
        .map_err(|e| CliError::no_device(format!("cannot watch NVML: {e}")))
}

#[cfg(not(feature = "nvml"))]
fn open_nvml(_config: &FleetConfig) -> CliResult<Box<dyn FleetSource>> {
    Err(CliError::no_device(
        "this wattledger was built without NVML (feature `nvml`); use --source jetson",
    ))
}

pub fn run(args: &Args) -> CliResult {
    let config = FleetConfig::with_interval(Duration::from_millis(args.interval));
    // Signals first: a SIGTERM that arrives while NVML loads still stops us
    // cleanly rather than killing the process half-way.
    let mut stop = StopSignals::new()?;
    let source = open_source(&args.source, &config)?;
    let server = Server::http(args.listen)
        .map_err(|e| CliError::failure(format!("cannot listen on {}: {e}", args.listen)))?;
    let server = Arc::new(server);
    let mut poller = Poller::spawn(source, config.clone())
        .map_err(|e| CliError::failure(format!("cannot start the poller thread: {e}")))?;
    let latest = poller.latest();
    let first = latest.get();
    let registry = Arc::new(daemon::registry(FleetCollector::new(latest.clone())));
    let stopping = Arc::new(AtomicBool::new(false));
    let stale_after = (config.interval * 3).max(Duration::from_secs(5));
    let mut workers = Vec::with_capacity(WORKERS);
    for i in 0..WORKERS {
        let (server, registry, latest, stopping) = (
            server.clone(),
            registry.clone(),
            latest.clone(),
            stopping.clone(),
        );
        let w = std::thread::Builder::new()
            .name(format!("wattledger-http-{i}"))
            .spawn(move || {
                while !stopping.load(Ordering::Relaxed) {
                    match server.recv() {
                        Ok(request) => respond(request, &registry, &latest, stale_after),
                        Err(_) => break,
                    }
                }
            })
            .map_err(|e| CliError::failure(format!("cannot start an HTTP worker: {e}")))?;
        workers.push(w);
    }
    let addr = server
        .server_addr()
        .to_ip()
        .map_or_else(|| args.listen.to_string(), |a| a.to_string());
    out::message(&format!(
        "exporting {} device(s) and {} rail(s) from {} every {} ms on http://{addr}/metrics",
        first.gpus.len(),
        first.rails.len(),
        first.source,
        args.interval
    ));
    let signal = stop.wait();
    stopping.store(true, Ordering::Relaxed);
    for _ in 0..WORKERS {
        server.unblock();
    }
    for w in workers {
        let _ = w.join();
    }
    poller.stop();
    out::message(&format!(
        "stopped by {}",
        crate::supervise::signal_name(signal)
    ));
    Ok(exit::OK)
}

fn header(name: &str, value: &str) -> Option<Header> {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).ok()
}

fn reply(request: Request, status: u16, content_type: &str, body: String) {
    let mut response = Response::from_string(body).with_status_code(status);
    if let Some(h) = header("Content-Type", content_type) {
        response.add_header(h);
    }
    // The client may have gone; nothing to do about it.
    let _ = request.respond(response);
}

fn respond(request: Request, registry: &Registry, latest: &Latest, stale_after: Duration) {
    if !matches!(request.method(), Method::Get | Method::Head) {
        return reply(
            request,
            405,
            "text/plain; charset=utf-8",
            "use GET\n".into(),
        );
    }
    let path = request.url().split('?').next().unwrap_or("");
    match path {
        "/metrics" => {
            let accept = request
                .headers()
                .iter()
                .find(|h| h.field.equiv("Accept"))
                .map(|h| h.value.as_str().to_owned());
            let format = Format::from_accept(accept.as_deref());
            let body = daemon::render(registry, format);
            reply(request, 200, format.content_type(), body);
        }
        "/healthz" => {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64());
            let age = now - latest.get().last_poll_unix_s;
            if age <= stale_after.as_secs_f64() {
                reply(request, 200, "text/plain; charset=utf-8", "ok\n".into());
            } else {
                reply(
                    request,
                    503,
                    "text/plain; charset=utf-8",
                    format!("stale: the last poll ended {age:.1} s ago\n"),
                );
            }
        }
        "/" => reply(
            request,
            200,
            "text/html; charset=utf-8",
            "<html><head><title>wattledger exporter</title></head><body>\
             <h1>wattledger exporter</h1><p><a href=\"/metrics\">/metrics</a> \
             <a href=\"/healthz\">/healthz</a></p></body></html>\n"
                .into(),
        ),
        _ => reply(
            request,
            404,
            "text/plain; charset=utf-8",
            "not found: try /metrics\n".into(),
        ),
    }
}

/// SIGTERM and SIGINT, caught from the start.
struct StopSignals {
    #[cfg(unix)]
    signals: signal_hook::iterator::Signals,
}

impl StopSignals {
    fn new() -> CliResult<Self> {
        #[cfg(unix)]
        {
            use signal_hook::consts::{SIGINT, SIGTERM};
            let signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT])
                .map_err(|e| CliError::failure(format!("cannot catch SIGTERM/SIGINT: {e}")))?;
            Ok(StopSignals { signals })
        }
        #[cfg(not(unix))]
        Ok(StopSignals {})
    }

    /// Block until a stop signal arrives; its number.
    fn wait(&mut self) -> i32 {
        #[cfg(unix)]
        {
            self.signals
                .forever()
                .next()
                .unwrap_or(signal_hook::consts::SIGTERM)
        }
        #[cfg(not(unix))]
        loop {
            std::thread::park();
        }
    }
}
