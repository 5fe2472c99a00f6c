//! Function processes as Lambda starts them: a cleared environment with Lambda's reserved
//! variables, a Runtime API emulator each, and (where cgroups are writable) cgroups of their
//! own, which count their CPU and give them a memory size's CPU share.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use shared::App;
use shared::config::Config;
use tokio::process::{Child, Command};

use crate::cpu::{Cgroups, Share, Slot};
use crate::emulator::{Outcome, RuntimeApi, status_of};

/// The app's variables for a local stage of its own, named by `run` (its certificate URL apart:
/// a function may reach that through a TLS front).
pub fn app_vars(project: &str, run: &str) -> Vec<(String, String)> {
    vec![
        ("STAGE".into(), "local".into()),
        ("FIREBASE_PROJECT_ID".into(), project.into()),
        ("TABLE_PREFIX".into(), format!("halobestie-{run}")),
        ("ANONYMITY_PARAMETER".into(), format!("/halobestie/{run}/anonymity_enabled")),
        // A loaded machine can hold a throttled process's first key fetch past the 3 s default.
        ("FIREBASE_FETCH_TIMEOUT_MS".into(), "10000".into()),
    ]
}

/// The driver's own App on the stage of `app_vars`, straight at the stand-ins.
pub async fn app(app_vars: &[(String, String)], certs_url: &str) -> anyhow::Result<App> {
    let mut vars: HashMap<_, _> = app_vars.iter().cloned().collect();
    vars.insert("FIREBASE_CERTS_URL".into(), certs_url.to_owned());
    App::new(Config::from_lookup(|name| vars.get(name).cloned().or_else(|| std::env::var(name).ok()))?).await
}

/// The environment a function process gets: Lambda's reserved variables plus the app's.
pub struct FunctionEnv {
    pub vars: Vec<(String, String)>,
    pub log_dir: PathBuf,
    pub cgroups: Option<Cgroups>,
}

/// Where a function reaches the certificate server, DynamoDB and SSM.
pub struct Endpoints {
    pub certs: String,
    pub dynamodb: String,
    pub ssm: String,
}

/// A running function process and its cgroups.
pub struct Process {
    child: Child,
    slot: Option<Slot>,
}

impl FunctionEnv {
    /// The app's variables, the endpoints of its certificates and stand-ins, and what Lambda
    /// sets besides.
    pub fn local(app_vars: &[(String, String)], urls: Endpoints, log_dir: PathBuf, cgroups: Option<Cgroups>) -> Self {
        let mut vars: Vec<(String, String)> = app_vars.to_vec();
        vars.push(("FIREBASE_CERTS_URL".into(), urls.certs));
        for name in ["AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "PATH"] {
            if let Ok(value) = std::env::var(name) {
                vars.push((name.into(), value));
            }
        }
        vars.push(("AWS_ENDPOINT_URL_DYNAMODB".into(), urls.dynamodb));
        vars.push(("AWS_ENDPOINT_URL_SSM".into(), urls.ssm));
        vars.push(("AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(), "128".into()));
        vars.push(("AWS_LAMBDA_FUNCTION_VERSION".into(), "$LATEST".into()));
        vars.push(("AWS_EXECUTION_ENV".into(), "AWS_Lambda_provided.al2023".into()));
        vars.push(("TZ".into(), ":UTC".into()));
        Self { vars, log_dir, cgroups }
    }

    /// Starts `bin` against `api` at `share` (a share needs cgroups).
    pub async fn spawn(
        &self,
        bin: &Path,
        name: &str,
        api: &RuntimeApi,
        overrides: &[(&str, String)],
        share: Share,
    ) -> anyhow::Result<Process> {
        let mut command = self.command(bin, name, api, overrides)?;
        let slot = self.cgroups.as_ref().map(Cgroups::slot).transpose().context("making a process's cgroups")?;
        match (&slot, share) {
            (_, Share::Full) => {}
            (None, _) => bail!("{} needs writable cgroups", share.label()),
            (Some(slot), Share::NoBoost(mb)) => slot.throttle(mb)?,
            (Some(slot), Share::Boost(mb)) => {
                let (file, quota) = (slot.quota_file(), crate::cpu::quota_text(mb));
                api.on_first_poll(move || {
                    let _ = std::fs::write(file, quota);
                });
            }
        }
        if let Some(slot) = &slot {
            // SAFETY: the joiner only makes system calls on memory prepared before the fork.
            unsafe { command.pre_exec(slot.joiner()) };
        }
        let child = command.spawn().with_context(|| format!("spawning {}", bin.display()))?;
        Ok(Process { child, slot })
    }

    fn command(
        &self,
        bin: &Path,
        name: &str,
        api: &RuntimeApi,
        overrides: &[(&str, String)],
    ) -> anyhow::Result<Command> {
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
        Ok(command)
    }
}

impl Process {
    /// CPU time the process has used so far: its cgroup's, else its live threads'.
    pub fn cpu(&self) -> Option<Duration> {
        match &self.slot {
            Some(slot) => slot.usage().ok(),
            None => self.threads_cpu(),
        }
    }

    /// CPU time of the process's live threads (schedstat), whatever its cgroups count.
    pub fn threads_cpu(&self) -> Option<Duration> {
        self.child.id().and_then(|pid| crate::cpu::schedstat(pid).ok())
    }

    /// Peak resident set (VmHWM), in bytes.
    pub fn peak_rss(&self) -> anyhow::Result<u64> {
        self.status_bytes("VmHWM:")
    }

    /// Resident set (VmRSS) now, in bytes.
    pub fn rss(&self) -> anyhow::Result<u64> {
        self.status_bytes("VmRSS:")
    }

    /// How many file descriptors the process has open.
    pub fn open_fds(&self) -> anyhow::Result<usize> {
        let pid = self.child.id().context("process has exited")?;
        Ok(std::fs::read_dir(format!("/proc/{pid}/fd"))?.count())
    }

    fn status_bytes(&self, field: &str) -> anyhow::Result<u64> {
        let pid = self.child.id().context("process has exited")?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let kb = status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .with_context(|| format!("no {field}"))?;
        Ok(kb * 1024)
    }

    /// Kills and reaps the process, then removes its cgroups.
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
        drop(self.slot.take());
    }
}

/// One cold start: spawn → first answer.
pub struct Cold {
    pub wall: Duration,
    /// CPU from exec through the first answer.
    pub cpu: Option<Duration>,
    /// Spawn → first `invocation/next` (Lambda's init phase).
    pub init: Option<Duration>,
    pub status: u16,
}

/// A fresh process of `binary` answering `event`, with variables added to its environment.
pub async fn cold_start(
    env: &FunctionEnv,
    binary: &Path,
    name: &str,
    event: Vec<u8>,
    overrides: &[(&str, String)],
    share: Share,
) -> anyhow::Result<Cold> {
    let api = RuntimeApi::start().await?;
    let answer = api.submit(event);
    let t0 = Instant::now();
    let process = env.spawn(binary, name, &api, overrides, share).await?;
    let outcome = api.wait(answer).await.with_context(|| format!("cold start of {name} ({})", share.label()));
    let cpu = process.cpu();
    process.stop().await;
    let outcome = outcome?;
    expect_success(name, &outcome)?;
    let init = api.first_poll().map(|at| at.saturating_duration_since(t0));
    Ok(Cold { wall: outcome.received_at - t0, cpu, init, status: status_of(&outcome)? })
}

pub fn expect_success(name: &str, outcome: &Outcome) -> anyhow::Result<()> {
    let status = status_of(outcome).with_context(|| name.to_owned())?;
    if !(200..300).contains(&status) {
        bail!("{name} answered {status}: {}", String::from_utf8_lossy(&outcome.body));
    }
    Ok(())
}
