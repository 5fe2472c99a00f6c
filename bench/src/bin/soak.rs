//! The soak (`scripts/soak.sh`): one warm process of each function kind serves `--requests`
//! invocations through the Runtime API emulator, one at a time as Lambda sends them, with
//! the tokens of `--callers` callers (two each, minted ahead) in turn: more callers and
//! tokens than any cache holds, so every cache fills and evicts. After `--warmup` invocations its
//! resident set may grow by at most 2 MB and its open descriptors by at most the pool's slack, and every cache
//! (the process reports their sizes and bounds at debug level, target `caches`) stays within
//! its bound. Prints one line per function, then:
//!
//! `soak: requests=… rss_growth_max_mb=… fd_growth_max=… caches_within_bounds=… -> PASS|FAIL`

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use bench::cpu::Share;
use bench::emulator::{RuntimeApi, status_of};
use bench::process::{self, Endpoints, FunctionEnv};
use devkit::certs::CertServer;
use devkit::devtoken::{Minter, Persona};
use futures::StreamExt;
use serde_json::Value;
use shared::App;
use shared::domain::{CustomerDisplayName, DisplayName, Email};
use shared::routes::{self, Route};

const MB: f64 = 1_000_000.0;
const RSS_GROWTH_LIMIT: u64 = 2_000_000;
/// Idle pooled connections (DynamoDB, SSM, certificates) may open or close; a leak of one
/// descriptor per thousand requests would still exceed this many.
const FD_SLACK: i64 = 2;
/// Samples of RSS and descriptors after the warm-up.
const SAMPLES: u64 = 10;

#[derive(clap::Parser)]
#[command(name = "soak")]
struct Args {
    /// Where the function binaries are.
    #[arg(long, default_value = "target/debug")]
    bin_dir: PathBuf,
    /// Where the functions' logs go.
    #[arg(long = "out", default_value = "target/soak")]
    out_dir: PathBuf,
    #[arg(long, default_value_t = 100_000)]
    requests: u64,
    #[arg(long, default_value_t = 10_000)]
    warmup: u64,
    /// Distinct callers per function, taken in turn.
    #[arg(long, default_value_t = 1_100)]
    callers: usize,
    /// Invocations a process serves at once (`AWS_LAMBDA_MAX_CONCURRENCY`); 1 is Lambda's
    /// classic one at a time.
    #[arg(long, default_value_t = 1)]
    in_flight: usize,
    /// Fixtures written at once.
    #[arg(long, default_value_t = 16)]
    fixture_concurrency: usize,
    /// The certificate server listens here, each function's Runtime API on the next ports.
    #[arg(long, default_value_t = 3300)]
    port_base: u16,
}

/// Who calls a function kind.
#[derive(Clone, Copy)]
enum Callers {
    /// Anonymous customers, each bound to a customer.
    Customers,
    /// Anonymous app users without a customer.
    Pollers,
    /// Control-center operators, each bound to its uid.
    Staff,
}

/// One function of each kind: a customer's route, the polled flag, a control-center route.
const KINDS: [(Route, Callers); 3] = [
    (routes::CLIENT_AUTH_VERIFY, Callers::Customers),
    (routes::PUBLIC_ANONYMITY_GET, Callers::Pollers),
    (routes::ANONYMITY_GET, Callers::Staff),
];

struct Soaked {
    name: &'static str,
    seconds: f64,
    failures: u64,
    /// `503` with `Retry-After`: the shared stand-ins timing out under other load.
    unavailable: u64,
    rss_warm: u64,
    rss_end: u64,
    rss_max: u64,
    fds_warm: usize,
    fds_end: usize,
    fds_max: usize,
    /// The largest size each cache reported, and its bound.
    caches: BTreeMap<String, (u64, Option<u64>)>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = <Args as clap::Parser>::parse();
    if args.warmup >= args.requests {
        bail!("--warmup must be below --requests");
    }
    let var = |name: &str| std::env::var(name).with_context(|| format!("{name} (source scripts/env.sh)"));
    let (ddb_url, ssm_url) = (var("AWS_ENDPOINT_URL_DYNAMODB")?, var("AWS_ENDPOINT_URL_SSM")?);
    let project = std::env::var("FIREBASE_PROJECT_ID").unwrap_or_else(|_| "halobestie-local".into());
    let admin_email = std::env::var("SUPER_ADMIN_EMAIL").unwrap_or_else(|_| "admin@halobestie.com".into());
    std::fs::create_dir_all(&args.out_dir)?;
    for entry in std::fs::read_dir(&args.out_dir)? {
        let _ = std::fs::remove_file(entry?.path());
    }
    let certs = CertServer::dev_key(&format!("127.0.0.1:{}", args.port_base), 3600).await?;
    let run = format!("soak{}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs());
    let app_vars = process::app_vars(&project, &run);
    let app = process::app(&app_vars, certs.url()).await?;
    shared::seed::prepare_local(&app, &admin_email).await?;
    let minter = Minter::dev(&project)?;
    let started = Instant::now();
    let callers = Fixtures::new(&app, &minter, &run, args.callers, args.fixture_concurrency).await?;
    eprintln!("soak: {} callers of each kind ready in {:.1} s", args.callers, started.elapsed().as_secs_f64());
    let urls = Endpoints { certs: certs.url().to_owned(), dynamodb: ddb_url, ssm: ssm_url };
    let mut env = FunctionEnv::local(&app_vars, urls, args.out_dir.clone(), None);
    env.vars.push(("RUST_LOG".into(), "warn,caches=debug".into()));
    let soaks = KINDS.iter().enumerate().map(|(i, (route, kind))| {
        let port = args.port_base + 1 + i as u16;
        soak(&env, &args, route, callers.of(*kind), &minter, port)
    });
    let soaked = futures::future::try_join_all(soaks).await?;
    report(&soaked, &args, started.elapsed().as_secs_f64())
}

/// The uids of each kind of caller.
struct Fixtures {
    customers: Vec<String>,
    pollers: Vec<String>,
    staff: Vec<(String, String)>,
}

impl Fixtures {
    async fn new(app: &App, minter: &Minter, run: &str, n: usize, at_once: usize) -> anyhow::Result<Self> {
        let customers: Vec<String> = (0..n).map(|i| format!("{run}-customer-{i}")).collect();
        at_once_each(at_once, &customers, |uid| async move {
            retrying(|| async {
                let name = CustomerDisplayName::parse(Some("Soak"))?;
                app.customers().create_anonymous(name, Some(uid)).await.with_context(|| format!("customer {uid}"))?;
                anyhow::Ok(())
            })
            .await
        })
        .await?;
        let staff: Vec<(String, String)> =
            (0..n).map(|i| (format!("{run}-staff-{i}"), format!("{run}-staff-{i}@halobestie.com"))).collect();
        at_once_each(at_once, &staff, |(uid, email)| async move {
            let operator = shared::domain::roles::operator_role().id;
            retrying(|| async {
                let created = app
                    .control_center_users()
                    .create(&Email::parse(email)?, DisplayName::parse("Soak Operator")?, operator, None)
                    .await
                    .with_context(|| format!("user {email}"))?;
                anyhow::Ok(created.value().is_some())
            })
            .await?;
            // The first login binds the uid, as `internal-auth-verify` does.
            let token =
                minter.token(&Persona::ControlCenter { uid: uid.clone(), email: email.clone(), email_verified: true });
            let mut headers = http::HeaderMap::new();
            headers.insert(http::header::AUTHORIZATION, format!("Bearer {token}").parse()?);
            retrying(|| async {
                shared::auth::authorize(app, routes::INTERNAL_AUTH_VERIFY.access, &headers, "soak-fixtures")
                    .await
                    .map(|_| ())
                    .map_err(|e| anyhow::anyhow!("binding {uid}: {e}"))
            })
            .await
        })
        .await?;
        Ok(Self { customers, pollers: (0..n).map(|i| format!("{run}-poller-{i}")).collect(), staff })
    }

    fn of(&self, kind: Callers) -> Vec<Persona> {
        match kind {
            Callers::Customers => self.customers.iter().map(|uid| Persona::Anonymous { uid: uid.clone() }).collect(),
            Callers::Pollers => self.pollers.iter().map(|uid| Persona::Anonymous { uid: uid.clone() }).collect(),
            Callers::Staff => self
                .staff
                .iter()
                .map(|(uid, email)| Persona::ControlCenter {
                    uid: uid.clone(),
                    email: email.clone(),
                    email_verified: true,
                })
                .collect(),
        }
    }
}

async fn at_once_each<'a, T, F>(at_once: usize, items: &'a [T], each: impl Fn(&'a T) -> F) -> anyhow::Result<()>
where
    F: Future<Output = anyhow::Result<()>>,
{
    let done: Vec<anyhow::Result<()>> =
        futures::stream::iter(items).map(each).buffer_unordered(at_once).collect().await;
    done.into_iter().collect()
}

/// The shared stand-ins time out under other load now and then; a fixture is retried.
async fn retrying<T, F: Future<Output = anyhow::Result<T>>>(attempt: impl Fn() -> F) -> anyhow::Result<T> {
    let mut tries = 0;
    loop {
        match attempt().await {
            Err(error) if tries < 4 => {
                tries += 1;
                eprintln!("soak: retrying a fixture: {error:#}");
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
            done => return done,
        }
    }
}

async fn soak(
    env: &FunctionEnv,
    args: &Args,
    route: &Route,
    callers: Vec<Persona>,
    minter: &Minter,
    port: u16,
) -> anyhow::Result<Soaked> {
    let mut events = Events::mint(minter, route, &callers);
    let api = RuntimeApi::start_on(&format!("127.0.0.1:{port}")).await?;
    let concurrency = [("AWS_LAMBDA_MAX_CONCURRENCY", args.in_flight.to_string())];
    let child = env.spawn(&args.bin_dir.join(route.name), route.name, &api, &concurrency, Share::Full).await?;
    let started = Instant::now();
    let every = (args.requests - args.warmup) / SAMPLES;
    let (mut failures, mut unavailable, mut rss_warm, mut fds_warm, mut rss_max, mut fds_max) = (0, 0, 0, 0, 0, 0);
    let (mut in_flight, mut submitted) = (std::collections::VecDeque::new(), 0u64);
    for i in 1..=args.requests {
        while submitted < args.requests && in_flight.len() < args.in_flight {
            in_flight.push_back(api.submit(events.next(minter, route, &callers)));
            submitted += 1;
        }
        let answer = in_flight.pop_front().context("an invocation in flight")?;
        let outcome = api.wait(answer).await.with_context(|| format!("{} request {i}", route.name))?;
        let status = status_of(&outcome).ok();
        if status == Some(503) && String::from_utf8_lossy(&outcome.body).contains("retry-after") {
            unavailable += 1;
        } else if status != Some(200) {
            failures += 1;
            if failures <= 3 {
                eprintln!("soak: {} request {i}: {}", route.name, String::from_utf8_lossy(&outcome.body));
            }
        }
        if i == args.warmup {
            (rss_warm, fds_warm) = (child.rss()?, child.open_fds()?);
        }
        if i > args.warmup && (i - args.warmup).is_multiple_of(every) {
            rss_max = rss_max.max(child.rss()?);
            fds_max = fds_max.max(child.open_fds()?);
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let (rss_end, fds_end) = (child.rss()?, child.open_fds()?);
    child.stop().await;
    let caches = cache_maxima(&args.out_dir.join(format!("{}.log", route.name)))?;
    Ok(Soaked {
        name: route.name,
        seconds,
        failures,
        unavailable,
        rss_warm,
        rss_end,
        rss_max: rss_max.max(rss_end),
        fds_warm,
        fds_end,
        fds_max: fds_max.max(fds_end),
        caches,
    })
}

/// An event with each of two tokens of each caller, made ahead (an RS256 signature and an
/// event per invocation would take the soak's own CPU from the function's), taken in turn
/// and made again before the tokens expire.
struct Events {
    all: Vec<bytes::Bytes>,
    minted: Instant,
    next: usize,
}

/// Tokens live an hour; they are replaced well before.
const TOKENS_FOR: std::time::Duration = std::time::Duration::from_secs(45 * 60);

impl Events {
    fn mint(minter: &Minter, route: &Route, callers: &[Persona]) -> Self {
        let mut all = Vec::with_capacity(2 * callers.len());
        for age in [0, 1] {
            for caller in callers {
                // A second earlier `iat`: another token of the same caller.
                let mut claims = minter.claims(caller);
                for time in ["iat", "auth_time"] {
                    claims[time] = (claims[time].as_i64().unwrap_or_default() - age).into();
                }
                let token = minter.sign(&claims);
                all.push(bench::apigw_event(route.method, route.path, route.path, Some(&token), None, &[], &[]).into());
            }
        }
        Self { all, minted: Instant::now(), next: 0 }
    }

    fn next(&mut self, minter: &Minter, route: &Route, callers: &[Persona]) -> bytes::Bytes {
        if self.minted.elapsed() > TOKENS_FOR {
            *self = Self::mint(minter, route, callers);
        }
        self.next = (self.next + 1) % self.all.len();
        self.all[self.next].clone()
    }
}

/// The largest size each cache reported over the run, with its bound.
fn cache_maxima(log: &Path) -> anyhow::Result<BTreeMap<String, (u64, Option<u64>)>> {
    let text = std::fs::read_to_string(log).with_context(|| format!("reading {}", log.display()))?;
    let mut maxima: BTreeMap<String, (u64, Option<u64>)> = BTreeMap::new();
    let mut lines = 0;
    for line in text.lines() {
        let Ok(event) = serde_json::from_str::<Value>(line) else { continue };
        let fields = if event["fields"].is_object() { &event["fields"] } else { &event };
        if fields["message"] != "cache sizes" {
            continue;
        }
        lines += 1;
        for (name, value) in fields.as_object().into_iter().flatten() {
            let Some(n) = value.as_u64() else { continue };
            match name.strip_suffix("_bound") {
                Some(cache) => maxima.entry(cache.to_owned()).or_default().1 = Some(n),
                None => {
                    let entry = maxima.entry(name.clone()).or_default();
                    entry.0 = entry.0.max(n);
                }
            }
        }
    }
    if lines == 0 {
        bail!("{} holds no cache sizes: was the function built with them?", log.display());
    }
    Ok(maxima)
}

fn report(soaked: &[Soaked], args: &Args, total_seconds: f64) -> anyhow::Result<()> {
    let mut ok = true;
    let (mut rss_growth_max, mut fd_growth_max) = (0i64, 0i64);
    for s in soaked {
        let growth = s.rss_max as i64 - s.rss_warm as i64;
        let fd_growth = s.fds_max as i64 - s.fds_warm as i64;
        rss_growth_max = rss_growth_max.max(growth);
        fd_growth_max = fd_growth_max.max(fd_growth);
        let caches: Vec<String> = s
            .caches
            .iter()
            .map(|(name, (max, bound))| match bound {
                Some(bound) => format!("{name} {max}/{bound}"),
                None => format!("{name} {max}"),
            })
            .collect();
        let within = s.caches.values().all(|(max, bound)| bound.is_none_or(|b| *max <= b));
        ok &= within && growth <= RSS_GROWTH_LIMIT as i64 && fd_growth <= FD_SLACK && s.failures == 0;
        println!(
            "soak: {}: {} requests in {:.0} s ({:.0}/s), {} failed, {} 503; rss {:.1} MB after warm-up, {:.1} MB at the end, \
             at most {:+.2} MB; fds {} -> {} (at most {}); cache maxima {}",
            s.name,
            args.requests,
            s.seconds,
            args.requests as f64 / s.seconds,
            s.failures,
            s.unavailable,
            s.rss_warm as f64 / MB,
            s.rss_end as f64 / MB,
            growth as f64 / MB,
            s.fds_warm,
            s.fds_end,
            s.fds_max,
            caches.join(", ")
        );
    }
    let within = soaked.iter().all(|s| s.caches.values().all(|(max, bound)| bound.is_none_or(|b| *max <= b)));
    println!(
        "soak: requests={} per function ({} at once), {} functions in {total_seconds:.0} s; rss_growth_max_mb={:.2} \
         fd_growth_max={fd_growth_max} caches_within_bounds={within} -> {}",
        args.requests,
        args.in_flight,
        soaked.len(),
        rss_growth_max as f64 / MB,
        if ok { "PASS" } else { "FAIL" }
    );
    if !ok {
        bail!("the soak failed");
    }
    Ok(())
}
