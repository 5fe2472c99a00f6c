//! Function processes as Lambda starts them: a cleared environment with Lambda's reserved
//! variables, a Runtime API emulator each, and (where cgroups are writable) cgroups of their
//! own, which count their CPU and give them a memory size's CPU share.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::process::{Child, Command};

use crate::cpu::{Cgroups, Share, Slot};
use crate::emulator::{Outcome, RuntimeApi, status_of};

/// The environment a function process gets: Lambda's reserved variables plus the app's.
pub struct FunctionEnv {
    pub vars: Vec<(String, String)>,
    pub log_dir: PathBuf,
    pub cgroups: Option<Cgroups>,
}

/// A running function process and its cgroups.
pub struct Process {
    child: Child,
    slot: Option<Slot>,
}

impl FunctionEnv {
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
        let pid = self.child.id().context("process has exited")?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let kb = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .context("no VmHWM")?;
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
