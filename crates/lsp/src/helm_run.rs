//! Running `helm template` on a chart, for the command line and the server
//! alike (blocking: the server calls it on tokio's blocking pool). The pure
//! half (which templates need it, the line markers, reading the output
//! back) is `tokenguard_analysis::helm::render`; this is the process.
//!
//! * Never the network: a chart whose dependencies are not vendored under
//!   `charts/` is not rendered (the host reads it in place and says so), and
//!   `helm template` is run without `--dependency-update`.
//! * A temporary copy: the chart is copied into a fresh folder under the
//!   system's temporary folder, its templates annotated with line markers;
//!   the folder is removed afterwards, whatever happened.
//! * Bounded: Helm runs in its own process group, which is killed when it
//!   takes longer than the timeout.
//! * Never a crash: every failure is a [`Rendering`] that says why, with
//!   Helm's own message when Helm said something.

use std::ffi::OsString;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokenguard_analysis::helm::is_helper_file;
use tokenguard_analysis::helm::render::{annotate, missing_dependencies, Rendering};

/// How long a rendering may take unless configured.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

/// The release name given to `helm template`.
const RELEASE: &str = "release-name";

/// Files larger than this are not copied (a chart is small; anything else
/// under its folder is not Helm's business).
const MAX_COPIED_FILE: u64 = 8 << 20;

/// The `helm` executable: `configured` (a path, relative paths relative to
/// `base`), else `helm` on `PATH`. The error says what was looked for.
pub fn find_helm(configured: Option<&str>, base: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(path) = configured {
        let path = Path::new(path);
        let path = match base {
            Some(base) if path.is_relative() && path.components().count() > 1 => base.join(path),
            _ => path.to_path_buf(),
        };
        if path.components().count() > 1 || path.is_absolute() {
            return if is_executable(&path) {
                Ok(path)
            } else {
                Err(format!(
                    "the configured helm {} is not an executable file",
                    path.display()
                ))
            };
        }
        return on_path(path.as_os_str())
            .ok_or_else(|| format!("no {} executable found on PATH (helm.path)", path.display()));
    }
    on_path(&OsString::from("helm")).ok_or_else(|| {
        "no helm executable found on PATH; install helm, or set helm.path in tokenguard.toml, \
         to render the chart"
            .to_string()
    })
}

fn on_path(name: &std::ffi::OsStr) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    let Ok(meta) = fs::metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        meta.is_file()
    }
}

/// What to render.
#[derive(Clone, Debug)]
pub struct Request {
    pub helm: PathBuf,
    /// The chart's folder.
    pub chart: PathBuf,
    /// The values files, relative to the chart's folder; empty: the chart's
    /// `values.yaml` (Helm's default).
    pub values: Vec<String>,
    pub timeout: Duration,
}

/// The values files a rendering names: the configured ones, else
/// `values.yaml` when the chart has one.
pub fn values_files(chart: &Path, configured: &[String]) -> Vec<String> {
    if configured.is_empty() {
        if chart.join("values.yaml").is_file() {
            vec!["values.yaml".to_string()]
        } else {
            Vec::new()
        }
    } else {
        configured.to_vec()
    }
}

/// Renders the chart of `request`; never panics, never reaches the network.
pub fn render(request: &Request) -> Rendering {
    let values = values_files(&request.chart, &request.values);
    if let Some(missing) = unvendored(&request.chart) {
        return Rendering::not_rendered(format!(
            "its dependencies {missing} are not vendored in charts/, and rendering never downloads them"
        ));
    }
    for file in &values {
        if !request.chart.join(file).is_file() {
            return Rendering::failed(
                values.clone(),
                &format!("values file {file} not found in the chart's folder"),
            );
        }
    }
    let copy = match TempDir::new() {
        Ok(dir) => dir,
        Err(e) => {
            return Rendering::failed(values, &format!("cannot make a temporary folder: {e}"))
        }
    };
    let name = request
        .chart
        .file_name()
        .map_or_else(|| OsString::from("chart"), |n| n.to_os_string());
    let target = copy.path.join(&name);
    let mut sources = Vec::new();
    if let Err(e) = copy_chart(&request.chart, &target, &mut sources) {
        return Rendering::failed(values, &format!("cannot copy the chart: {e}"));
    }
    let mut command = Command::new(&request.helm);
    command.arg("template").arg(RELEASE).arg(&target);
    for file in &values {
        command.arg("-f").arg(target.join(file));
    }
    command
        .current_dir(&copy.path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    let child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            return Rendering::failed(
                values,
                &format!("cannot run {}: {e}", request.helm.display()),
            )
        }
    };
    match wait(child, request.timeout) {
        Finished::Done {
            success: true,
            stdout,
            ..
        } => Rendering::rendered(
            values,
            &stdout,
            sources.iter().map(|(p, t)| (p.clone(), t.as_str())),
        ),
        Finished::Done { stderr, status, .. } => {
            let message = if stderr.trim().is_empty() {
                format!("helm exited with {status}")
            } else {
                stderr
            };
            Rendering::failed(values, &message)
        }
        Finished::TimedOut => Rendering::failed(
            values,
            &format!(
                "helm template did not finish within {} s and was stopped",
                request.timeout.as_secs_f64()
            ),
        ),
        Finished::Lost(e) => Rendering::failed(values, &format!("waiting for helm: {e}")),
    }
}

/// The declared dependencies missing from `charts/`, listed; `None` when
/// every one is there.
fn unvendored(chart: &Path) -> Option<String> {
    let chart_yaml = fs::read_to_string(chart.join("Chart.yaml")).unwrap_or_default();
    let requirements = fs::read_to_string(chart.join("requirements.yaml")).ok();
    let vendored: Vec<String> = fs::read_dir(chart.join("charts"))
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    let missing = missing_dependencies(&chart_yaml, requirements.as_deref(), &vendored);
    (!missing.is_empty()).then(|| missing.join(", "))
}

/// Copies the chart at `from` to `to`; the templates (YAML files under
/// `templates/` that are not helpers) are annotated, and their original
/// texts recorded by path relative to the chart. Links are followed as Helm
/// follows them; special files are skipped.
fn copy_chart(from: &Path, to: &Path, sources: &mut Vec<(String, String)>) -> std::io::Result<()> {
    let mut stack = vec![(from.to_path_buf(), to.to_path_buf(), String::new())];
    let mut copied = 0usize;
    while let Some((src, dst, relative)) = stack.pop() {
        fs::create_dir_all(&dst)?;
        for entry in fs::read_dir(&src)? {
            let entry = entry?;
            let name = entry.file_name();
            let name_str = name.to_string_lossy().into_owned();
            let child_relative = if relative.is_empty() {
                name_str.clone()
            } else {
                format!("{relative}/{name_str}")
            };
            let path = entry.path();
            let Ok(meta) = fs::metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                // Version control and the like are not the chart's.
                if name_str.starts_with('.') && relative.is_empty() {
                    continue;
                }
                copied += 1;
                if copied > 100_000 {
                    return Err(std::io::Error::other("too many files under the chart"));
                }
                stack.push((path, dst.join(&name), child_relative));
                continue;
            }
            if !meta.is_file() || meta.len() > MAX_COPIED_FILE {
                continue;
            }
            let is_template = child_relative.starts_with("templates/")
                && (name_str.ends_with(".yaml") || name_str.ends_with(".yml"))
                && !is_helper_file(&name_str)
                && !name_str.starts_with('_');
            if is_template {
                if let Ok(text) = fs::read_to_string(&path) {
                    fs::write(dst.join(&name), annotate(&text))?;
                    sources.push((child_relative, text));
                    continue;
                }
            }
            fs::copy(&path, dst.join(&name))?;
        }
    }
    Ok(())
}

/// A folder removed when dropped.
struct TempDir {
    path: PathBuf,
}

impl TempDir {
    fn new() -> std::io::Result<Self> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        for _ in 0..16 {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = std::env::temp_dir().join(format!(
                "tokenguard-render-{}-{n}-{nanos}",
                std::process::id()
            ));
            match fs::create_dir(&path) {
                Ok(()) => return Ok(Self { path }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(std::io::Error::other("no free temporary folder name"))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

enum Finished {
    Done {
        success: bool,
        status: std::process::ExitStatus,
        stdout: String,
        stderr: String,
    },
    TimedOut,
    Lost(std::io::Error),
}

/// Waits for `child` at most `timeout`, reading its output meanwhile (so a
/// full pipe never blocks it); on timeout its whole process group is
/// killed.
fn wait(mut child: Child, timeout: Duration) -> Finished {
    let reader = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            String::from_utf8_lossy(&bytes).into_owned()
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
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() >= timeout => {
                kill_group(&mut child);
                // The readers end when the group's pipes close; they are
                // not waited for (a process that left the group may keep
                // a pipe open).
                drop((stdout, stderr));
                return Finished::TimedOut;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => {
                kill_group(&mut child);
                return Finished::Lost(e);
            }
        }
    };
    Finished::Done {
        success: status.success(),
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }
}

/// Kills `child` and every process of its group (it leads its own group),
/// then reaps it.
fn kill_group(child: &mut Child) {
    #[cfg(unix)]
    {
        // `kill -KILL -- -PGID`: the group, grandchildren included (no libc
        // binding is needed for one signal).
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", child.id())])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.kill();
    let _ = child.wait();
}
