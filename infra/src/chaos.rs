//! `halo-dev load --chaos`: mixed public and internal traffic while the API's dependencies
//! fail in turn behind fault proxies (DynamoDB throttling, a DynamoDB outage, an SSM outage, a
//! certificate-server outage), then a reconciliation of what was answered against what is
//! stored (`crate::reconcile`). The API runs as a child `halo-dev serve` pointed at the proxies.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;

use crate::devtoken::{Minter, Persona};
use crate::fault_proxy::{FaultProxy, Mode};
use crate::load::{Answer, answer, sign_in_admin};
use crate::reconcile::{self, Finding, Sample, Window};

pub struct ChaosPlan {
    pub public_port: String,
    pub internal_port: String,
    pub certs_port: String,
    /// Where the fault proxies listen: DynamoDB, SSM, certificates.
    pub proxy_ports: [String; 3],
    pub admin_email: String,
    pub project_id: String,
    pub clients: usize,
    pub server_log: PathBuf,
}

#[derive(Clone, Copy)]
enum Dependency {
    DynamoDb,
    Ssm,
    Certificates,
}

struct Fault {
    name: &'static str,
    dependency: Dependency,
    mode: Mode,
    lasts: Duration,
}

const SCHEDULE: [Fault; 4] = [
    Fault { name: "dynamodb-throttling", dependency: Dependency::DynamoDb, mode: Mode::Throttle, lasts: secs(6) },
    Fault { name: "dynamodb-outage", dependency: Dependency::DynamoDb, mode: Mode::Hang, lasts: secs(10) },
    Fault { name: "ssm-outage", dependency: Dependency::Ssm, mode: Mode::Refuse, lasts: secs(8) },
    Fault { name: "certificate-outage", dependency: Dependency::Certificates, mode: Mode::Refuse, lasts: secs(8) },
];

/// Calm before the first fault and after each: longer than the 5 s the service has to recover.
const CALM: Duration = secs(8);
/// At first only [`WARM_CLIENTS`] clients run, this long: a freshly started DynamoDB Local
/// compiles its request path meanwhile, and the whole traffic at once would time it out.
const WARM_UP: Duration = secs(6);
const WARM_CLIENTS: usize = 2;
const RECOVERY: Duration = secs(5);
/// Anonymous uids the public traffic creates, verifies and deletes, so that those race.
const UIDS: usize = 150;
/// Mitra phones the internal traffic creates, so that creates race for a phone.
const PHONES: u64 = 60;
/// SSM keeps a parameter's last 100 versions: the reconciliation needs them all.
const ANONYMITY_UPDATES: usize = 90;

const fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

pub async fn run(plan: ChaosPlan) -> anyhow::Result<()> {
    let var = |name: &str| std::env::var(name).with_context(|| format!("{name} must be set (scripts/env.sh)"));
    let upstreams =
        [var("AWS_ENDPOINT_URL_DYNAMODB")?, var("AWS_ENDPOINT_URL_SSM")?, format!("127.0.0.1:{}", plan.certs_port)];
    let mut proxies = Vec::new();
    for (port, upstream) in plan.proxy_ports.iter().zip(&upstreams) {
        let proxy = FaultProxy::bind(&format!("127.0.0.1:{port}"), upstream)
            .await
            .with_context(|| format!("binding a fault proxy on port {port}"))?;
        proxies.push(proxy);
    }
    let _server = start_server(&plan, &proxies).await?;
    let public = format!("http://127.0.0.1:{}", plan.public_port);
    let internal = format!("http://127.0.0.1:{}", plan.internal_port);
    let minter = Minter::dev(&plan.project_id)?;
    let http =
        reqwest::Client::builder().pool_max_idle_per_host(plan.clients).timeout(Duration::from_secs(30)).build()?;
    let admin = sign_in_admin(&minter, &http, &internal, &plan.admin_email).await?;
    let traffic = Traffic {
        public,
        internal,
        admin,
        poller: minter.token(&Persona::Anonymous { uid: "chaos-poller".into() }),
        customers: (0..UIDS)
            .map(|k| {
                let uid = format!("chaos-{k}");
                let token = minter.token(&Persona::Anonymous { uid: uid.clone() });
                (uid, token)
            })
            .collect(),
        mitras: Mutex::default(),
        anonymity_updates: AtomicUsize::new(0),
        samples: Mutex::default(),
        stop: AtomicBool::new(false),
        http,
    };
    let started = Instant::now();
    let workers = futures::future::try_join_all((0..plan.clients).map(|w| traffic.client_loop(w)));
    let (windows, _) = tokio::try_join!(inject(&proxies, &traffic.stop), workers)?;
    traffic.retry_the_flag().await;
    let elapsed = started.elapsed();
    let samples = std::mem::take(&mut *traffic.samples.lock().unwrap_or_else(|e| e.into_inner()));
    let answers = reconcile::answers(&samples, &windows, RECOVERY);
    let app = shared::App::from_env().await?;
    let stored = reconcile::Stored::read(&app).await?;
    let findings = [answers.findings.clone(), reconcile::storage(&samples, &stored)].concat();
    print_findings(&findings);
    let ok = findings.is_empty();
    println!(
        "chaos: {} clients for {:.1} s; faults {}",
        plan.clients,
        elapsed.as_secs_f64(),
        windows.iter().map(|w| w.name).collect::<Vec<_>>().join(", ")
    );
    println!(
        "chaos: requests={} ok_2xx={} expected_4xx={} unavailable_503={} bad_answers={} recovery_max_ms={} \
         customers={} mitras={} audit_records={} claims={} {} -> {}",
        samples.len(),
        answers.ok,
        answers.refused,
        answers.unavailable,
        answers.bad,
        answers.recovery_max.as_millis(),
        stored.customers.len(),
        stored.mitras.len(),
        stored.audit.len(),
        stored.claims(),
        reconcile::counts(&findings),
        if ok { "PASS" } else { "FAIL" }
    );
    if !ok {
        bail!("the chaos run found {} problem(s)", findings.len());
    }
    Ok(())
}

/// Runs the schedule: calm, then each fault followed by calm; then stops the traffic.
async fn inject(proxies: &[Arc<FaultProxy>], stop: &AtomicBool) -> anyhow::Result<Vec<Window>> {
    let mut windows = Vec::new();
    tokio::time::sleep(WARM_UP + CALM).await;
    for fault in SCHEDULE {
        let proxy = &proxies[fault.dependency as usize];
        let from = Instant::now();
        proxy.set(fault.mode);
        tokio::time::sleep(fault.lasts).await;
        proxy.set(Mode::Forward);
        windows.push(Window { name: fault.name, from, until: Instant::now() });
        tokio::time::sleep(CALM).await;
    }
    stop.store(true, Ordering::Relaxed);
    Ok(windows)
}

/// `halo-dev serve` (this very binary) with its dependencies behind the proxies, and
/// certificates that go stale within a second so that their outage is felt.
async fn start_server(plan: &ChaosPlan, proxies: &[Arc<FaultProxy>]) -> anyhow::Result<tokio::process::Child> {
    let log =
        std::fs::File::create(&plan.server_log).with_context(|| format!("creating {}", plan.server_log.display()))?;
    let mut child = tokio::process::Command::new(std::env::current_exe()?)
        .arg("serve")
        .env("AWS_ENDPOINT_URL_DYNAMODB", &proxies[Dependency::DynamoDb as usize].url)
        .env("AWS_ENDPOINT_URL_SSM", &proxies[Dependency::Ssm as usize].url)
        .env("FIREBASE_CERTS_URL", format!("{}{}", proxies[Dependency::Certificates as usize].url, crate::certs::PATH))
        .env("DEV_CERTS_MAX_AGE", "1")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .context("starting halo-dev serve")?;
    let http = reqwest::Client::new();
    let deadline = Instant::now() + secs(60);
    loop {
        let mut up = true;
        for port in [&plan.public_port, &plan.internal_port] {
            let url = format!("http://127.0.0.1:{port}{}", crate::openapi::SPEC_PATH);
            up &= http.get(url).send().await.is_ok_and(|r| r.status().is_success());
        }
        if up {
            return Ok(child);
        }
        if child.try_wait()?.is_some() || Instant::now() > deadline {
            bail!("halo-dev serve did not come up; see {}", plan.server_log.display());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

struct Traffic {
    public: String,
    internal: String,
    admin: String,
    poller: String,
    /// (uid, token) of each anonymous customer the traffic plays.
    customers: Vec<(String, String)>,
    /// Mitras answered 201, whose status the traffic then toggles.
    mitras: Mutex<Vec<String>>,
    anonymity_updates: AtomicUsize,
    samples: Mutex<Vec<Sample>>,
    stop: AtomicBool,
    http: reqwest::Client,
}

impl Traffic {
    async fn client_loop(&self, worker: usize) -> anyhow::Result<()> {
        if worker >= WARM_CLIENTS {
            tokio::time::sleep(WARM_UP).await;
        }
        let mut random = 0x9e37_79b9_7f4a_7c15_u64 ^ (worker as u64 + 1).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        while !self.stop.load(Ordering::Relaxed) {
            random ^= random << 13;
            random ^= random >> 7;
            random ^= random << 17;
            self.one_request(random).await;
        }
        Ok(())
    }

    async fn one_request(&self, random: u64) {
        let (uid, token) = &self.customers[(random >> 8) as usize % self.customers.len()];
        let mitra = {
            let mitras = self.mitras.lock().unwrap_or_else(|e| e.into_inner());
            // Most toggles go to the first few mitras, so that they race.
            let few = mitras.len().min(if random & 0x100 == 0 { 4 } else { usize::MAX });
            (few > 0).then(|| mitras[(random >> 16) as usize % few].clone())
        };
        let flag = random & 0x200 == 0;
        let (op, method, url, token, body, key) = match random % 16 {
            0..=2 => (
                "customer.create",
                "POST",
                format!("{}/api/shared/customer/anonymous", self.public),
                token,
                Some(json!({ "display_name": "Chaos" })),
                uid.clone(),
            ),
            3 => ("customer.delete", "DELETE", format!("{}/api/client/account", self.public), token, None, uid.clone()),
            4 | 5 => {
                ("customer.verify", "POST", format!("{}/api/client/auth/verify", self.public), token, None, uid.clone())
            }
            6 | 7 => {
                let url = format!("{}/api/shared/config/anonymity", self.public);
                ("anonymity.get", "GET", url, &self.poller, None, String::new())
            }
            8 | 9 => {
                let phone = format!("+62812000{:05}", (random >> 20) % PHONES);
                let body = Some(json!({ "phone": phone, "display_name": "Chaos" }));
                ("mitra.create", "POST", format!("{}/internal/mitras", self.internal), &self.admin, body, phone)
            }
            10 | 11 | 12 if mitra.is_some() => {
                let id = mitra.unwrap_or_default();
                let (op, method, url, body) = if random % 16 == 12 && random & 0x400 == 0 {
                    ("mitra.delete", "DELETE", format!("{}/internal/mitras/{id}", self.internal), None)
                } else {
                    let url = format!("{}/internal/mitras/{id}/status", self.internal);
                    ("mitra.status", "PATCH", url, Some(json!({ "is_active": flag })))
                };
                (op, method, url, &self.admin, body, id)
            }
            13 if self.anonymity_updates.fetch_add(1, Ordering::Relaxed) < ANONYMITY_UPDATES => {
                let url = format!("{}/internal/config/anonymity", self.internal);
                let body = Some(json!({ "anonymity_enabled": flag }));
                ("anonymity.update", "PATCH", url, &self.admin, body, flag.to_string())
            }
            _ => {
                let url = format!("{}/internal/mitras?page={}&limit=20", self.internal, 1 + random % 3);
                ("mitra.list", "GET", url, &self.admin, None, String::new())
            }
        };
        self.send(op, method, url, token, body, key).await;
    }

    /// Sends one request and keeps it with its answer as a sample; true when answered 2xx.
    async fn send(
        &self,
        op: &'static str,
        method: &str,
        url: String,
        token: &str,
        body: Option<serde_json::Value>,
        key: String,
    ) -> bool {
        let started = Instant::now();
        // No answer at all (status 0) is a finding, not the end of the run.
        let answer = answer(&self.http, method, &url, token, body).await.unwrap_or(Answer {
            status: 0,
            retry_after: false,
            body: serde_json::Value::Null,
        });
        let id = answer.body["data"]["id"].as_str().map(str::to_owned);
        if op == "mitra.create" && answer.status == 201 {
            self.mitras.lock().unwrap_or_else(|e| e.into_inner()).extend(id.clone());
        }
        let sample = Sample {
            op,
            key,
            id,
            status: answer.status,
            retry_after: answer.retry_after,
            started,
            finished: Instant::now(),
        };
        let ok = sample.ok();
        self.samples.lock().unwrap_or_else(|e| e.into_inner()).push(sample);
        ok
    }

    /// What an admin does when the flag's last change answered 503: sends it again (a change
    /// SSM took without its record is recorded by the next write of the flag).
    async fn retry_the_flag(&self) {
        let last = {
            let samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
            let updates = samples.iter().filter(|s| s.op == "anonymity.update");
            updates.max_by_key(|s| s.finished).filter(|s| !s.ok()).map(|s| s.key.clone())
        };
        let Some(value) = last else { return };
        let url = format!("{}/internal/config/anonymity", self.internal);
        for _ in 0..5 {
            let body = Some(json!({ "anonymity_enabled": value == "true" }));
            if self.send("anonymity.update", "PATCH", url.clone(), &self.admin, body, value.clone()).await {
                return;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

/// Each check's findings, at most a few lines per check, then how many there were.
fn print_findings(findings: &[Finding]) {
    const SHOWN: usize = 8;
    let mut checks: Vec<&str> = findings.iter().map(|f| f.check).collect();
    checks.dedup();
    checks.sort_unstable();
    checks.dedup();
    for check in checks {
        let of_check: Vec<&Finding> = findings.iter().filter(|f| f.check == check).collect();
        for f in of_check.iter().take(SHOWN) {
            println!("chaos: FAIL {check}: {}: {}", f.target, f.detail);
        }
        if of_check.len() > SHOWN {
            println!("chaos: FAIL {check}: … and {} more", of_check.len() - SHOWN);
        }
    }
}
