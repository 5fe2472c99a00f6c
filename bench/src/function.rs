//! Function processes as Lambda runs them: the environment a function gets, spawning one
//! against a Runtime API emulator, stopping it, and reading its memory and descriptors.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::Context;
use shared::App;
use shared::config::Config;
use tokio::process::{Child, Command};

use crate::emulator::RuntimeApi;

/// The app's variables for a local stage of its own, named by `run`.
pub fn app_vars(project: &str, certs_url: &str, run: &str) -> Vec<(String, String)> {
    vec![
        ("STAGE".into(), "local".into()),
        ("FIREBASE_PROJECT_ID".into(), project.into()),
        ("FIREBASE_CERTS_URL".into(), certs_url.into()),
        ("TABLE_PREFIX".into(), format!("halobestie-{run}")),
        ("ANONYMITY_PARAMETER".into(), format!("/halobestie/{run}/anonymity_enabled")),
    ]
}

/// This process's own App on the stage of `app_vars` (the rest from the environment).
pub async fn app(app_vars: &[(String, String)]) -> anyhow::Result<App> {
    let vars: HashMap<_, _> = app_vars.iter().cloned().collect();
    App::new(Config::from_lookup(|name| vars.get(name).cloned().or_else(|| std::env::var(name).ok()))?).await
}

/// The environment a function process gets: Lambda's reserved variables plus the app's.
pub struct FunctionEnv {
    pub vars: Vec<(String, String)>,
    pub log_dir: PathBuf,
}

impl FunctionEnv {
    /// The app's variables, the stand-ins' endpoints, and what Lambda sets besides.
    pub fn local(app_vars: &[(String, String)], dynamodb_url: &str, ssm_url: &str, log_dir: PathBuf) -> Self {
        let mut vars: Vec<(String, String)> = app_vars.to_vec();
        for name in ["AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "PATH"] {
            if let Ok(value) = std::env::var(name) {
                vars.push((name.into(), value));
            }
        }
        vars.push(("AWS_ENDPOINT_URL_DYNAMODB".into(), dynamodb_url.into()));
        vars.push(("AWS_ENDPOINT_URL_SSM".into(), ssm_url.into()));
        vars.push(("AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(), "128".into()));
        vars.push(("AWS_LAMBDA_FUNCTION_VERSION".into(), "$LATEST".into()));
        vars.push(("AWS_EXECUTION_ENV".into(), "AWS_Lambda_provided.al2023".into()));
        vars.push(("TZ".into(), ":UTC".into()));
        Self { vars, log_dir }
    }

    pub async fn spawn(
        &self,
        bin: &Path,
        name: &str,
        api: &RuntimeApi,
        overrides: &[(&str, String)],
    ) -> anyhow::Result<Child> {
        let log =
            std::fs::OpenOptions::new().create(true).append(true).open(self.log_dir.join(format!("{name}.log")))?;
        // BENCH_WRAP="strace -f -ttt -o /tmp/trace" runs every function under a tracer.
        let wrap: Vec<String> =
            std::env::var("BENCH_WRAP").unwrap_or_default().split_whitespace().map(String::from).collect();
        let mut command = match wrap.split_first() {
            Some((tool, args)) => {
                let mut c = Command::new(tool);
                c.args(args).arg(bin);
                c
            }
            None => Command::new(bin),
        };
        command
            .env_clear()
            .envs(self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("AWS_LAMBDA_RUNTIME_API", api.address())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_LOG_STREAM_NAME", format!("bench/{name}"))
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true);
        for (k, v) in overrides {
            command.env(k, v);
        }
        command.spawn().with_context(|| format!("spawning {}", bin.display()))
    }
}

pub async fn stop(mut child: Child) {
    let _ = child.start_kill();
    let _ = child.wait().await;
}

/// Peak resident set (VmHWM) of a process, in bytes.
pub fn peak_rss(child: &Child) -> anyhow::Result<u64> {
    status_bytes(child, "VmHWM:")
}

/// Resident set (VmRSS) of a process now, in bytes.
pub fn rss(child: &Child) -> anyhow::Result<u64> {
    status_bytes(child, "VmRSS:")
}

fn status_bytes(child: &Child, field: &str) -> anyhow::Result<u64> {
    let pid = child.id().context("process has exited")?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .with_context(|| format!("no {field}"))?;
    Ok(kb * 1024)
}

/// How many file descriptors a process has open.
pub fn open_fds(child: &Child) -> anyhow::Result<usize> {
    let pid = child.id().context("process has exited")?;
    Ok(std::fs::read_dir(format!("/proc/{pid}/fd"))?.count())
}
