//! Writing to standard output and standard error without ever panicking.
//!
//! `print!` and `eprint!` panic when the write fails, which turned
//! `wattledger estimate | head -1` (a pipe closed early) and
//! `wattledger estimate > /dev/full` (a full disk) into "internal error"
//! exits. Everything the command prints goes through here instead:
//!
//! - a closed pipe ([`std::io::ErrorKind::BrokenPipe`]) ends the output
//!   quietly, as `cat` and `grep` do: [`CliError::closed_pipe`], no message,
//!   exit 0 (or, for `measure`, the measured command's code);
//! - any other write error is one line on stderr and exit 1.

use std::io::{self, Write};
use std::path::Path;

use crate::{CliError, CliResult};

/// Appends a formatted line to a `String` (writing to a `String` cannot fail).
#[macro_export]
macro_rules! outln {
    ($s:expr) => {
        $s.push('\n')
    };
    ($s:expr, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        let _ = writeln!($s, $($arg)*);
    }};
}

/// The error of a failed write to `what`.
fn write_error(what: &str, e: &io::Error) -> CliError {
    if e.kind() == io::ErrorKind::BrokenPipe {
        CliError::closed_pipe()
    } else {
        CliError::failure(format!("cannot write to {what}: {e}"))
    }
}

/// Writes `text` to `out` and flushes it.
fn write_all(mut out: impl Write, text: &str, what: &str) -> CliResult<()> {
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| write_error(what, &e))
}

/// Writes `text` to standard output.
///
/// # Errors
/// [`CliError::closed_pipe`] when the reader has gone; a failure (exit 1)
/// for any other error.
pub fn stdout(text: &str) -> CliResult<()> {
    write_all(io::stdout().lock(), text, "standard output")
}

/// Writes `text` to standard error (a report, not a message about failure).
///
/// # Errors
/// As [`stdout`].
pub fn stderr(text: &str) -> CliResult<()> {
    write_all(io::stderr().lock(), text, "standard error")
}

/// One line `wattledger: MESSAGE` on standard error. A failure to write it
/// is ignored: there is nowhere left to say so.
pub fn message(text: &str) {
    let _ = writeln!(io::stderr().lock(), "wattledger: {text}");
}

/// One line `wattledger: warning: MESSAGE` on standard error.
pub fn warning(text: &str) {
    message(&format!("warning: {text}"));
}

/// Whether `path` names something other than a regular file that exists
/// (`/dev/stdout`, `/dev/fd/3`, a named pipe): it is written in place,
/// not through a temporary file and a rename.
fn is_special(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// Checks, before anything runs, that the file `path` given to `option`
/// can be written: it is not a directory, its directory exists, and a file
/// can be created there. A path that names a device or a pipe
/// (`/dev/stdout`) is accepted as it is.
///
/// # Errors
/// A failure (exit 1) saying what is wrong with the path and what to do.
pub fn check_output(option: &str, path: &Path) -> CliResult<()> {
    let shown = path.display();
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => {
            return Err(CliError::failure(format!(
                "{option} {shown}: that is a directory; name a file (e.g. {})",
                path.join("wattledger.out").display()
            )));
        }
        Ok(m) if !m.is_file() => return Ok(()),
        _ => {}
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    if !dir.is_dir() {
        return Err(CliError::failure(format!(
            "{option} {shown}: the directory {} does not exist; create it or choose another path",
            dir.display()
        )));
    }
    // Creating a file is the only reliable test (permissions, read-only
    // mounts, ACLs): a probe beside the target, removed at once.
    let probe = dir.join(format!(".wattledger-probe.{}", std::process::id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(CliError::failure(format!(
            "{option} {shown}: cannot create a file in {}: {e}; choose a writable directory",
            dir.display()
        ))),
    }
}

/// Writes `text` to the file `path`: atomically (a temporary file and a
/// rename, so a reader never sees half a file) for a regular file, in place
/// for a device or a pipe.
///
/// # Errors
/// [`CliError::closed_pipe`] when `path` is a pipe whose reader has gone;
/// a failure (exit 1) naming the file for any other error.
pub fn write_file(path: &Path, text: &str) -> CliResult<()> {
    let result = if is_special(path) {
        std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.flush()))
    } else {
        wattledger_std::exporters::write_atomically(path, text)
    };
    result.map_err(|e| {
        if e.kind() == io::ErrorKind::BrokenPipe {
            CliError::closed_pipe()
        } else {
            CliError::failure(format!(
                "cannot write {}: {e}; check that the directory exists, is writable and has space",
                path.display()
            ))
        }
    })
}
