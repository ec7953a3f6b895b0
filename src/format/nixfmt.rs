//! The `nixfmt` style: the user's installed `nixfmt`, text in on stdin and
//! out on stdout, killed when it outlives its timeout. The only subprocess
//! in the core; see the module docs of `format`.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use wait_timeout::ChildExt;

use super::{FormatError, Formatter, Style};

pub struct Nixfmt {
    pub program: String,
    pub timeout: Duration,
}

/// Spawns `program` with piped stdio. "Text file busy" (the program is
/// being written, or another thread's fork still holds it open for a
/// moment) is retried briefly.
fn spawn_retrying_busy(program: &str) -> std::io::Result<std::process::Child> {
    const ETXTBSY: i32 = 26;
    let mut attempt = 0;
    loop {
        let spawned = Command::new(program)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        match spawned {
            Err(e) if e.raw_os_error() == Some(ETXTBSY) && attempt < 20 => {
                attempt += 1;
                std::thread::sleep(Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

/// How much of nixfmt's stderr an error message quotes.
const STDERR_SHOWN: usize = 2000;

impl Formatter for Nixfmt {
    fn style(&self) -> Style {
        Style::Nixfmt
    }

    fn format(&self, text: &str) -> Result<String, FormatError> {
        let program = self.program.clone();
        let mut child = spawn_retrying_busy(&self.program).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => FormatError::NixfmtMissing {
                program: program.clone(),
            },
            _ => FormatError::NixfmtUnusable {
                program: program.clone(),
                message: e.to_string(),
            },
        })?;
        // Feed and drain on threads: a child blocked writing a full stdout
        // pipe would otherwise never read the rest of its stdin.
        let input = text.as_bytes().to_vec();
        let mut stdin = child.stdin.take();
        let writer = std::thread::spawn(move || {
            if let Some(stdin) = stdin.as_mut() {
                // A child that exits without reading gives EPIPE: its exit
                // status says what went wrong, not this.
                let _ = stdin.write_all(&input);
            }
        });
        let reader = |pipe: Option<Box<dyn Read + Send>>| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                if let Some(mut pipe) = pipe {
                    let _ = pipe.read_to_end(&mut buf);
                }
                buf
            })
        };
        let stdout = reader(
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );
        let stderr = reader(
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );

        let status = match child.wait_timeout(self.timeout) {
            Ok(Some(status)) => status,
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(FormatError::NixfmtTimeout {
                    program,
                    timeout: self.timeout,
                });
            }
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(FormatError::NixfmtUnusable {
                    program,
                    message: e.to_string(),
                });
            }
        };
        let _ = writer.join();
        let stdout = stdout.join().unwrap_or_default();
        let stderr = stderr.join().unwrap_or_default();
        if !status.success() {
            let mut stderr = String::from_utf8_lossy(&stderr).trim().to_string();
            if stderr.len() > STDERR_SHOWN {
                let cut = (0..=STDERR_SHOWN)
                    .rev()
                    .find(|&i| stderr.is_char_boundary(i))
                    .unwrap_or(0);
                stderr.truncate(cut);
                stderr.push_str("...");
            }
            if stderr.is_empty() {
                stderr = "no message".into();
            }
            return Err(FormatError::NixfmtFailed {
                program,
                status: status.to_string(),
                stderr,
            });
        }
        String::from_utf8(stdout).map_err(|_| FormatError::NixfmtFailed {
            program,
            status: status.to_string(),
            stderr: "its output is not valid UTF-8".into(),
        })
    }
}
