//! Cold starts under AWS's Runtime Interface Emulator (`aws-lambda-rie`, what `sam local`
//! and AWS's base images run), for the figures on-call engineers read in CloudWatch: the
//! RIE's own `INIT REPORT` and `REPORT` lines beside the bench's clock.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::process::Command;

use crate::process::FunctionEnv;

/// What the RIE reported for one cold invocation, and the bench's own clock around it.
pub struct RieCold {
    /// `INIT REPORT(durationMs: …)`: the runtime's init. The `REPORT` line's `Init Duration`
    /// is not it (BENCHMARKS.md), so it is kept apart.
    pub init: Option<Duration>,
    pub init_duration: Option<Duration>,
    /// `REPORT … Duration`: the RIE starts the runtime at the first invocation, so this
    /// includes the init.
    pub duration: Option<Duration>,
    /// The bench's clock: POST of the invocation → its answer (the RIE's own spawn included).
    pub wall: Duration,
}

/// One cold start of `bin` under the RIE at `rie`, answering `event`.
pub async fn cold_start(
    rie: &Path,
    env: &FunctionEnv,
    bin: &Path,
    name: &str,
    event: Vec<u8>,
) -> anyhow::Result<RieCold> {
    let (port, runtime_port) = (crate::loopback_addr()?, crate::loopback_addr()?);
    let log_path = env.log_dir.join(format!("rie-{name}.log"));
    let log = std::fs::File::create(&log_path)?;
    let mut child = Command::new(rie)
        .args(["--log-level", "info", "--runtime-interface-emulator-address", &port])
        .args(["--runtime-api-address", &runtime_port])
        .arg(bin)
        .env_clear()
        .envs(env.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("spawning {}", rie.display()))?;
    let url = format!("http://{port}/2015-03-31/functions/function/invocations");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    // Retried only until the RIE's endpoint listens; the RIE starts the runtime on the first
    // invocation, so the one that is answered is the cold one.
    let (answer, wall) = loop {
        let t0 = Instant::now();
        match client.post(&url).body(event.clone()).timeout(Duration::from_secs(30)).send().await {
            Ok(response) => break (response.bytes().await?, t0.elapsed()),
            Err(e) if e.is_connect() && Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(5)).await,
            Err(e) => {
                stop(&mut child).await;
                bail!("{name} under the RIE: {e}");
            }
        }
    };
    let mut text = String::new();
    for _ in 0..100 {
        text = std::fs::read_to_string(&log_path).unwrap_or_default();
        if text.lines().any(|l| l.starts_with("REPORT ")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop(&mut child).await;
    if serde_json::from_slice::<serde_json::Value>(&answer).ok().is_some_and(|v| v.get("errorType").is_some()) {
        bail!("{name} under the RIE failed: {}", String::from_utf8_lossy(&answer));
    }
    let report = text.lines().find(|l| l.starts_with("REPORT ")).unwrap_or_default();
    Ok(RieCold {
        init: number_after(&text, "INIT REPORT(durationMs: "),
        init_duration: number_after(report, "Init Duration: "),
        duration: number_after(report, "\tDuration: ").or_else(|| number_after(report, " Duration: ")),
        wall,
    })
}

/// The RIE ends the runtime it started when it gets TERM; KILL only if it does not.
async fn stop(child: &mut tokio::process::Child) {
    if let Some(pid) = child.id() {
        // SAFETY: a plain signal to our own child.
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
        if tokio::time::timeout(Duration::from_secs(3), child.wait()).await.is_ok() {
            return;
        }
    }
    let _ = child.kill().await;
}

/// The milliseconds written right after `label` in `text`.
fn number_after(text: &str, label: &str) -> Option<Duration> {
    let rest = &text[text.find(label)? + label.len()..];
    let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
    rest[..end].parse::<f64>().ok().map(|ms| Duration::from_secs_f64(ms / 1000.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rie_figures_are_read_from_its_log_lines() {
        let report = "REPORT RequestId: 7d1c\tInit Duration: 0.03 ms\tDuration: 225.86 ms\tBilled Duration: 226 ms";
        assert_eq!(number_after(report, "Init Duration: "), Some(Duration::from_secs_f64(0.000_03)));
        assert_eq!(number_after(report, "\tDuration: "), Some(Duration::from_secs_f64(0.225_86)));
        let log = "START RequestId: 7d1c\nINIT REPORT(durationMs: 579.62)\n";
        assert_eq!(number_after(log, "INIT REPORT(durationMs: "), Some(Duration::from_secs_f64(0.579_62)));
        assert_eq!(number_after(log, "Init Duration: "), None);
    }
}
