//! Running the measured command so that a signal never loses a measurement.
//!
//! The command runs in a **process group of its own** (`setpgid`). The
//! terminal's foreground group stays wattledger's, so Ctrl-C (SIGINT), and
//! likewise SIGTERM (`timeout`, Slurm, `kill`) and SIGHUP (a closed
//! terminal), reach wattledger alone; wattledger forwards each to the
//! command's whole group, exactly once, then waits for it, then reports:
//!
//! 1. the first signal is forwarded to the group, and the command gets
//!    [`GRACE`] to end;
//! 2. a command still running then (one that ignores SIGINT) gets SIGTERM
//!    and [`TERM_GRACE`] more, then SIGKILL; a SIGTERM that was ignored
//!    is followed by SIGKILL at once;
//! 3. a second signal while waiting stops waiting: SIGKILL to the group.
//!
//! The consequence of the own group: the command is in the terminal's
//! background, so a command that *reads from the terminal* (an interactive
//! shell or REPL) is stopped by the terminal (SIGTTIN). Measure such
//! programs with their input redirected, or wrap them in a script.
//!
//! A signal that is ignored when wattledger starts (`nohup`'s SIGHUP, SIGINT
//! in a background job of a script) is left ignored, for wattledger and the
//! command alike, as the user asked.

use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

/// How long the command has to end after the forwarded signal.
pub const GRACE: Duration = Duration::from_secs(3);
/// How long it has after the SIGTERM that follows an ignored signal.
pub const TERM_GRACE: Duration = Duration::from_secs(2);

/// How the command ended.
#[derive(Debug)]
pub struct Ended {
    /// Its exit status.
    pub status: ExitStatus,
    /// The signal that interrupted the measurement, if one did.
    pub interrupted_by: Option<i32>,
}

/// The name of signal `n` (`SIGINT`), or `signal N`.
pub fn signal_name(n: i32) -> String {
    #[cfg(unix)]
    {
        let name = match n {
            libc::SIGINT => "SIGINT",
            libc::SIGTERM => "SIGTERM",
            libc::SIGHUP => "SIGHUP",
            libc::SIGKILL => "SIGKILL",
            libc::SIGQUIT => "SIGQUIT",
            _ => "",
        };
        if !name.is_empty() {
            return name.to_owned();
        }
    }
    format!("signal {n}")
}

#[cfg(unix)]
mod imp {
    use super::*;
    use std::os::unix::process::CommandExt;

    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    use signal_hook::iterator::Signals;

    /// Whether `sig`'s disposition is "ignore" now.
    fn ignored(sig: i32) -> bool {
        // SAFETY: sigaction with a null new action only reads the current
        // disposition into `old`, a zeroed sigaction we own.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            libc::sigaction(sig, std::ptr::null(), &mut old) == 0
                && old.sa_sigaction == libc::SIG_IGN
        }
    }

    /// The signals wattledger catches and forwards: those not ignored.
    pub struct Catcher {
        signals: Option<Signals>,
    }

    impl Catcher {
        /// Starts catching SIGINT, SIGTERM and SIGHUP (each unless ignored).
        ///
        /// # Errors
        /// The OS error of installing a handler.
        pub fn new() -> std::io::Result<Catcher> {
            let wanted: Vec<i32> = [SIGINT, SIGTERM, SIGHUP]
                .into_iter()
                .filter(|&s| !ignored(s))
                .collect();
            let signals = if wanted.is_empty() {
                None
            } else {
                Some(Signals::new(wanted)?)
            };
            Ok(Catcher { signals })
        }

        fn pending(&mut self) -> Vec<i32> {
            self.signals
                .as_mut()
                .map_or_else(Vec::new, |s| s.pending().collect())
        }
    }

    /// Puts the command in a process group of its own.
    pub fn prepare(cmd: &mut Command) {
        cmd.process_group(0);
    }

    fn signal_group(child: &Child, sig: i32) {
        if let Ok(pgid) = libc::pid_t::try_from(child.id()) {
            // SAFETY: killpg has no memory effects; a group that has gone
            // is ESRCH, which is fine.
            unsafe {
                libc::killpg(pgid, sig);
            }
        }
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Stage {
        Forwarded,
        Terminated,
        Killed,
    }

    /// Waits for `child`, forwarding signals as the module says, and calls
    /// `tick` about every 20 ms while it runs.
    ///
    /// # Errors
    /// The OS error of waiting.
    pub fn wait(
        child: &mut Child,
        catcher: &mut Catcher,
        on_signal: &mut dyn FnMut(i32, bool),
        tick: &mut dyn FnMut(),
    ) -> std::io::Result<Ended> {
        let mut interrupt: Option<(i32, Instant, Stage)> = None;
        loop {
            if let Some(status) = child.try_wait()? {
                return Ok(Ended {
                    status,
                    interrupted_by: interrupt.map(|(s, _, _)| s),
                });
            }
            for sig in catcher.pending() {
                match &mut interrupt {
                    None => {
                        signal_group(child, sig);
                        interrupt = Some((sig, Instant::now(), Stage::Forwarded));
                        on_signal(sig, false);
                    }
                    Some((_, _, stage)) if *stage != Stage::Killed => {
                        signal_group(child, libc::SIGKILL);
                        *stage = Stage::Killed;
                        on_signal(sig, true);
                    }
                    Some(_) => {}
                }
            }
            if let Some((first, at, stage)) = &mut interrupt {
                match *stage {
                    Stage::Forwarded if at.elapsed() >= GRACE => {
                        if *first == SIGTERM {
                            signal_group(child, libc::SIGKILL);
                            *stage = Stage::Killed;
                        } else {
                            signal_group(child, SIGTERM);
                            *stage = Stage::Terminated;
                            *at = Instant::now();
                        }
                    }
                    Stage::Terminated if at.elapsed() >= TERM_GRACE => {
                        signal_group(child, libc::SIGKILL);
                        *stage = Stage::Killed;
                    }
                    _ => {}
                }
            }
            std::thread::sleep(Duration::from_millis(20));
            tick();
        }
    }
}

#[cfg(not(unix))]
mod imp {
    use super::*;

    /// No signals to catch here.
    pub struct Catcher;

    impl Catcher {
        pub fn new() -> std::io::Result<Catcher> {
            Ok(Catcher)
        }
    }

    pub fn prepare(_cmd: &mut Command) {}

    pub fn wait(
        child: &mut Child,
        _catcher: &mut Catcher,
        _on_signal: &mut dyn FnMut(i32, bool),
        tick: &mut dyn FnMut(),
    ) -> std::io::Result<Ended> {
        loop {
            if let Some(status) = child.try_wait()? {
                return Ok(Ended {
                    status,
                    interrupted_by: None,
                });
            }
            std::thread::sleep(Duration::from_millis(20));
            tick();
        }
    }
}

pub use imp::{Catcher, prepare, wait};
