//! Build progress as BuildKit prints it: `plain` (numbered `#N` lines, what `docker build
//! --progress=plain` shows), `tty` (the `[+] Building 1.2s (12/12) FINISHED` panel, redrawn in
//! place, with the output of running steps shown under them and collapsed when they finish),
//! `rawjson` (one JSON event per line) and `quiet`. Everything goes to stderr.
//!
//! keel adds one line BuildKit does not have: for each step that missed the cache, why
//! (`#7 cache miss: build arg VERSION changed`; in the tty panel, under the step).

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use keel_build::{BuildEvent, Reporter};

/// `--progress`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Tty,
    Plain,
    RawJson,
    Quiet,
}

impl Mode {
    /// Parse `--progress`; `auto` is tty on a terminal, plain otherwise.
    pub fn parse(value: &str, quiet: bool) -> Result<Mode, String> {
        if quiet {
            return Ok(Mode::Quiet);
        }
        match value {
            "auto" => Ok(if std::io::stderr().is_terminal() {
                Mode::Tty
            } else {
                Mode::Plain
            }),
            "tty" => Ok(Mode::Tty),
            "plain" => Ok(Mode::Plain),
            "rawjson" => Ok(Mode::RawJson),
            "quiet" => Ok(Mode::Quiet),
            other => Err(format!(
                "invalid progress mode {other:?}: use auto, tty, plain, rawjson or quiet"
            )),
        }
    }
}

#[derive(Debug, Clone)]
struct Step {
    id: usize,
    name: String,
    started: Instant,
    elapsed: Option<Duration>,
    cached: bool,
    failed: bool,
    miss: Option<String>,
    /// Output lines (tty mode keeps the last few while running).
    output: Vec<String>,
    /// Sub-lines of internal steps (`=> => naming to ...`).
    details: Vec<(String, Duration)>,
}

struct State {
    steps: Vec<Step>,
    started: Instant,
    drawn_lines: usize,
    last_draw: Option<Instant>,
    finished: bool,
}

/// Renders build events on stderr.
pub struct Progress {
    mode: Mode,
    state: Mutex<State>,
    /// Added to the engine's step numbers, which start at 1, so they follow keel's own
    /// internal steps (`#1 [internal] load build definition`).
    offset: std::sync::atomic::AtomicUsize,
}

/// Lines of a running step's output the tty panel shows.
const TTY_OUTPUT_LINES: usize = 6;

impl Progress {
    pub fn new(mode: Mode) -> Progress {
        Progress {
            mode,
            state: Mutex::new(State {
                steps: Vec::new(),
                started: Instant::now(),
                drawn_lines: 0,
                last_draw: None,
                finished: false,
            }),
            offset: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// An internal step keel does outside the engine (`[internal] load build definition`,
    /// `exporting to image`), with its detail lines, already finished.
    pub fn internal(&self, name: &str, details: &[(String, Duration)], elapsed: Duration) {
        let id = {
            let s = self.state();
            s.steps.iter().map(|s| s.id).max().unwrap_or(0) + 1
        };
        self.offset.store(id, std::sync::atomic::Ordering::SeqCst);
        self.emit(BuildEvent::Started {
            id,
            name: name.to_owned(),
        });
        {
            let mut s = self.state();
            if let Some(step) = s.steps.iter_mut().find(|s| s.id == id) {
                step.details = details.to_vec();
            }
        }
        if self.mode == Mode::Plain {
            let mut err = std::io::stderr().lock();
            for (line, _) in details {
                let _ = writeln!(err, "#{id} {line} done");
            }
        }
        self.emit(BuildEvent::Done { id, elapsed });
    }

    /// The build is over: draw the final panel.
    pub fn finish(&self, ok: bool) {
        if self.mode == Mode::Tty {
            let mut s = self.state();
            s.finished = ok;
            draw(&mut s, true, ok);
        }
    }
}

impl Reporter for Progress {
    fn event(&self, event: BuildEvent) {
        let offset = self.offset.load(std::sync::atomic::Ordering::SeqCst);
        self.emit(shift(event, offset));
    }
}

/// An engine event with its step number moved past keel's internal steps.
fn shift(event: BuildEvent, offset: usize) -> BuildEvent {
    match event {
        BuildEvent::Started { id, name } => BuildEvent::Started {
            id: id + offset,
            name,
        },
        BuildEvent::Cached { id } => BuildEvent::Cached { id: id + offset },
        BuildEvent::Miss { id, reason } => BuildEvent::Miss {
            id: id + offset,
            reason,
        },
        BuildEvent::Output { id, bytes } => BuildEvent::Output {
            id: id + offset,
            bytes,
        },
        BuildEvent::Done { id, elapsed } => BuildEvent::Done {
            id: id + offset,
            elapsed,
        },
        BuildEvent::Failed { id, elapsed } => BuildEvent::Failed {
            id: id + offset,
            elapsed,
        },
        w @ BuildEvent::Warning { .. } => w,
    }
}

impl Progress {
    fn emit(&self, event: BuildEvent) {
        match self.mode {
            Mode::Quiet => {}
            Mode::RawJson => raw_json(&event),
            Mode::Plain => {
                self.record(&event);
                plain(&event);
            }
            Mode::Tty => {
                self.record(&event);
                let mut s = self.state();
                let due = s
                    .last_draw
                    .is_none_or(|t| t.elapsed() >= Duration::from_millis(100));
                let boundary = !matches!(event, BuildEvent::Output { .. });
                if due || boundary {
                    draw(&mut s, false, false);
                }
            }
        }
    }
}

impl Progress {
    fn record(&self, event: &BuildEvent) {
        let mut s = self.state();
        match event {
            BuildEvent::Started { id, name } => s.steps.push(Step {
                id: *id,
                name: name.clone(),
                started: Instant::now(),
                elapsed: None,
                cached: false,
                failed: false,
                miss: None,
                output: Vec::new(),
                details: Vec::new(),
            }),
            BuildEvent::Cached { id } => {
                if let Some(step) = find(&mut s, *id) {
                    step.cached = true;
                }
            }
            BuildEvent::Miss { id, reason } => {
                if let Some(step) = find(&mut s, *id) {
                    step.miss = Some(reason.clone());
                }
            }
            BuildEvent::Output { id, bytes } => {
                if let Some(step) = find(&mut s, *id) {
                    step.output
                        .push(String::from_utf8_lossy(bytes).trim_end().to_owned());
                    if step.output.len() > TTY_OUTPUT_LINES {
                        step.output.remove(0);
                    }
                }
            }
            BuildEvent::Done { id, elapsed } => {
                if let Some(step) = find(&mut s, *id) {
                    step.elapsed = Some(*elapsed);
                }
            }
            BuildEvent::Failed { id, elapsed } => {
                if let Some(step) = find(&mut s, *id) {
                    step.elapsed = Some(*elapsed);
                    step.failed = true;
                }
            }
            BuildEvent::Warning { .. } => {}
        }
    }
}

fn find(s: &mut State, id: usize) -> Option<&mut Step> {
    s.steps.iter_mut().find(|step| step.id == id)
}

/// `--progress=plain`: what BuildKit's plain printer writes.
fn plain(event: &BuildEvent) {
    let mut err = std::io::stderr().lock();
    let _ = match event {
        BuildEvent::Started { id, name } => writeln!(err, "\n#{id} {name}"),
        BuildEvent::Cached { id } => writeln!(err, "#{id} CACHED"),
        BuildEvent::Miss { id, reason } => writeln!(err, "#{id} cache miss: {reason}"),
        BuildEvent::Output { id, bytes } => {
            write!(err, "#{id} {}", String::from_utf8_lossy(bytes))
        }
        BuildEvent::Done { id, elapsed } => {
            writeln!(err, "#{id} DONE {:.1}s", elapsed.as_secs_f64())
        }
        BuildEvent::Failed { id, elapsed } => {
            writeln!(err, "#{id} ERROR {:.1}s", elapsed.as_secs_f64())
        }
        BuildEvent::Warning { message } => writeln!(err, "WARNING: {message}"),
    };
}

fn raw_json(event: &BuildEvent) {
    use serde_json::json;
    let value = match event {
        BuildEvent::Started { id, name } => json!({"type": "started", "id": id, "name": name}),
        BuildEvent::Cached { id } => json!({"type": "cached", "id": id}),
        BuildEvent::Miss { id, reason } => json!({"type": "miss", "id": id, "reason": reason}),
        BuildEvent::Output { id, bytes } => {
            json!({"type": "output", "id": id, "data": String::from_utf8_lossy(bytes)})
        }
        BuildEvent::Done { id, elapsed } => {
            json!({"type": "done", "id": id, "seconds": elapsed.as_secs_f64()})
        }
        BuildEvent::Failed { id, elapsed } => {
            json!({"type": "error", "id": id, "seconds": elapsed.as_secs_f64()})
        }
        BuildEvent::Warning { message } => json!({"type": "warning", "message": message}),
    };
    let _ = writeln!(std::io::stderr().lock(), "{value}");
}

/// The tty panel, redrawn over the previous one.
fn draw(s: &mut State, last: bool, ok: bool) {
    let width = terminal_width();
    let total = s.steps.len();
    let done = s.steps.iter().filter(|st| st.elapsed.is_some()).count();
    let mut lines = Vec::new();
    let status = if last {
        if ok {
            " FINISHED"
        } else {
            " ERROR"
        }
    } else {
        ""
    };
    lines.push(format!(
        "[+] Building {:.1}s ({done}/{total}){status}",
        s.started.elapsed().as_secs_f64()
    ));
    for step in &s.steps {
        let elapsed = step.elapsed.unwrap_or_else(|| step.started.elapsed());
        let prefix = if step.cached {
            "CACHED "
        } else if step.failed {
            "ERROR "
        } else {
            ""
        };
        lines.push(pad(
            &format!(" => {prefix}{}", step.name),
            &format!("{:.1}s", elapsed.as_secs_f64()),
            width,
        ));
        for (detail, t) in &step.details {
            lines.push(pad(
                &format!(" => => {detail}"),
                &format!("{:.1}s", t.as_secs_f64()),
                width,
            ));
        }
        if let Some(miss) = &step.miss {
            if !step.cached {
                lines.push(cut(&format!(" => => cache miss: {miss}"), width));
            }
        }
        // Output shows while the step runs (and stays for a failed one).
        if step.elapsed.is_none() || step.failed {
            for line in &step.output {
                lines.push(cut(&format!(" => => # {line}"), width));
            }
        }
    }
    let mut err = std::io::stderr().lock();
    let mut out = String::new();
    if s.drawn_lines > 0 {
        out.push_str(&format!("\x1b[{}A", s.drawn_lines));
    }
    for line in &lines {
        out.push_str("\x1b[2K");
        out.push_str(line);
        out.push('\n');
    }
    // Clear what the previous, longer panel left below.
    for _ in lines.len()..s.drawn_lines {
        out.push_str("\x1b[2K\n");
    }
    if s.drawn_lines > lines.len() {
        out.push_str(&format!("\x1b[{}A", s.drawn_lines - lines.len()));
    }
    let _ = err.write_all(out.as_bytes());
    let _ = err.flush();
    s.drawn_lines = lines.len();
    s.last_draw = Some(Instant::now());
}

fn pad(left: &str, right: &str, width: usize) -> String {
    let left = cut(left, width.saturating_sub(right.len() + 1));
    let spaces = width
        .saturating_sub(left.chars().count() + right.len())
        .max(1);
    format!("{left}{}{right}", " ".repeat(spaces))
}

fn cut(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        s.to_owned()
    } else {
        s.chars().take(width.saturating_sub(1)).collect::<String>() + "…"
    }
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(80)
        .clamp(40, 400)
}
