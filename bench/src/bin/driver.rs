//! The bench driver: runs every measurement of `scripts/bench.sh` against the release
//! binaries in `--bin-dir`, prints a table, and ends with the one-line summary:
//!
//! `bench: cold_ratio=… warm_overhead_ratio=… verify_fresh_us=… verify_repeat_us=… ssm_calls=… max_zip_mb=… max_rss_mb=… peer_cold_ratio=… peer_cold_ratio_as_written=… cold_extra_ms=… max_sequential_calls=… [max_arm64_zip_mb=…]`
//!
//! - `peer_cold_ratio`: the largest of our cold p50 / the peer's (bench/peer: the same first
//!   request written the usual way), the peer given `SSL_CERT_FILE` as ours set it;
//!   `peer_cold_ratio_as_written` against the peer as written. Ours and the peer's two runs
//!   are spawned one after another in every round, in a rotating order.
//! - `cold_extra_ms`: the largest of our cold p50 − bench-hello's.
//! - `max_sequential_calls`: the most storage round trips one warm request makes one after
//!   another (calls that overlapped in time count once).
//! - `max_arm64_zip_mb`: with `--arm64-dir`, the largest zip of the aarch64 builds.
//!
//! The warm floor replays each function's recorded storage calls with new generated ids,
//! `ClientRequestToken`s and one-use values every time, so writes are really redone.
//! Functions it cannot drive yet (a DELETE consumes its entity) are skipped with the reason
//! printed; one whose writes cannot be replayed is measured cold only.
//!
//! Needs the stand-ins (`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_SSM`, credentials
//! and region in the environment, as `scripts/env.sh` sets them).

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use aws_sdk_dynamodb::types::AttributeValue;
use bench::emulator::{RuntimeApi, status_of};
use bench::function::{self, FunctionEnv, peak_rss, stop};
use bench::recorder::{Recorder, Script};
use bench::{apigw_event, median, ms, percentile};
use devkit::certs::CertServer;
use devkit::devtoken::{Minter, Persona};
use futures::StreamExt;
use serde_json::{Value, json};
use shared::App;
use shared::domain::{CustomerDisplayName, DisplayName, Email, Phone};
use shared::routes::{self, Access, Route};

const HELLO: &str = "bench-hello";
const MB: f64 = 1_000_000.0;
/// Our functions that have a peer in bench/peer, and the peer's binary.
const PEERS: [(&str, &str); 2] =
    [("client-auth-verify", "peer-client-auth-verify"), ("customer-anonymous", "peer-customer-anonymous")];
/// The system CA bundle our functions point `SSL_CERT_FILE` at (`shared::lambda::start`).
const SYSTEM_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// The two ways the peer is started: as written, and given `SSL_CERT_FILE` as ours set it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum PeerRun {
    AsWritten,
    CertFile,
}

/// Runs every measurement of `scripts/bench.sh` against the release binaries.
#[derive(clap::Parser)]
#[command(name = "bench-driver")]
struct Args {
    /// Where the release binaries of the functions and bench-hello are.
    #[arg(long, default_value = "target/release")]
    bin_dir: PathBuf,
    /// Where the table, logs and zips go.
    #[arg(long = "out", default_value = "target/bench")]
    out_dir: PathBuf,
    /// Criterion's output directory, for the token verification figures.
    #[arg(long = "criterion", default_value = "target/criterion")]
    criterion_dir: PathBuf,
    /// The API Gateway event fixtures (`halo-dev gen` writes them), one per route.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../events"))]
    events: PathBuf,
    /// Cold starts per function.
    #[arg(long, default_value_t = 11)]
    spawns: usize,
    /// Warm-up invocations per function before measuring.
    #[arg(long, default_value_t = 20)]
    warmup: usize,
    /// Measured warm invocations per function.
    #[arg(long, default_value_t = 400)]
    warm: usize,
    /// Where the peer's binaries are (`peer-<function>`, built from bench/peer); by default
    /// `--bin-dir`.
    #[arg(long)]
    peer_dir: Option<PathBuf>,
    /// Where aarch64 builds are, as `make lambdas LAMBDA_ARCH=--arm64` leaves them
    /// (`<dir>/<function>/bootstrap`): adds their zip sizes.
    #[arg(long)]
    arm64_dir: Option<PathBuf>,
    /// Anonymity GETs in the SSM measurement.
    #[arg(long, default_value_t = 1000)]
    ssm_gets: usize,
    #[arg(skip = Duration::from_secs(5))]
    ssm_window: Duration,
}

impl Args {
    fn parse() -> anyhow::Result<Self> {
        let args = <Self as clap::Parser>::parse();
        if args.spawns < 1 || args.warm < 1 {
            bail!("--spawns and --warm must be at least 1");
        }
        Ok(args)
    }
}

/// Everything the requests need: tokens, ids, and pools of one-use identities.
struct Fixtures {
    /// `events/<route>.json` of each route, with its `{{NAME}}` placeholders.
    events: HashMap<&'static str, String>,
    admin: String,
    client: String,
    client_customer: uuid::Uuid,
    poller: String,
    mitra: String,
    status_mitra: uuid::Uuid,
    operator_role: uuid::Uuid,
    /// A control-center user for the routes that act on one (`{{USER_ID}}`) without consuming it.
    operator: uuid::Uuid,
    /// (token, uid) of new anonymous users.
    fresh_anonymous: Mutex<VecDeque<(String, String)>>,
    /// (customer, token, uid, phone) of anonymous customers to link.
    links: Mutex<VecDeque<(uuid::Uuid, String, String, String)>>,
    serial: AtomicU64,
}

impl Fixtures {
    async fn new(
        app: &App,
        minter: &Minter,
        admin_email: &str,
        pool: usize,
        events_dir: &Path,
    ) -> anyhow::Result<Self> {
        let events = routes::ALL
            .iter()
            .map(|r| {
                let file = events_dir.join(format!("{}.json", r.name));
                let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
                anyhow::Ok((r.name, text))
            })
            .collect::<anyhow::Result<_>>()?;
        let run = std::process::id();
        let admin = minter.token(&Persona::ControlCenter {
            uid: format!("bench-admin-{run}"),
            email: admin_email.to_owned(),
            email_verified: true,
        });
        // The admin's first login binds its uid (as `internal-auth-verify` does), so that every
        // control-center route answers it even when BENCH_ONLY leaves that function out.
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::AUTHORIZATION, format!("Bearer {admin}").parse()?);
        shared::auth::authorize(app, routes::INTERNAL_AUTH_VERIFY.access, &headers, "bench-fixtures")
            .await
            .map_err(|e| anyhow::anyhow!("binding the bench admin's login: {e}"))?;
        let client_uid = format!("bench-client-{run}");
        let client_customer = match app
            .customers()
            .create_anonymous(CustomerDisplayName::parse(Some("Bench Client"))?, Some(&client_uid))
            .await?
        {
            outcome => outcome.value().ok_or_else(|| anyhow::anyhow!("no customer"))?.id,
        };
        let client = minter.token(&Persona::Anonymous { uid: client_uid.clone() });
        let poller = minter.token(&Persona::Anonymous { uid: format!("bench-poller-{run}") });
        let mitra_phone = "+6281300000001";
        let mitra = app
            .mitras()
            .create(&Phone::parse(mitra_phone)?, DisplayName::parse("Bench Mitra")?, None)
            .await?
            .value()
            .context("bench mitra exists already")?;
        app.mitras().set_status(&mitra.id, true, None).await?;
        let mitra = minter.token(&Persona::Mitra { uid: format!("bench-mitra-{run}"), phone: mitra_phone.to_owned() });
        let status_mitra = app
            .mitras()
            .create(&Phone::parse("+6281300000002")?, DisplayName::parse("Status Mitra")?, None)
            .await?
            .value()
            .context("status mitra exists already")?
            .id;
        let operator_role = app
            .roles()
            .all()
            .await?
            .into_iter()
            .find(|r| r.name == "operator")
            .context("the seed has no operator role")?
            .id;
        // Fixed-width serials: no one-use value is a prefix of another (a replay replaces them as text).
        let operator = app
            .control_center_users()
            .create(
                &Email::parse(&format!("bench-user-{run}@halobestie.com"))?,
                DisplayName::parse("Bench Operator")?,
                operator_role,
                None,
            )
            .await?
            .value()
            .context("the bench's control-center user exists already")?
            .id;
        let fresh_anonymous = (0..pool)
            .map(|i| {
                let uid = format!("bench-new-{run}-{i:06}");
                (minter.token(&Persona::Anonymous { uid: uid.clone() }), uid)
            })
            .collect();
        let links = futures::stream::iter(0..pool)
            .map(|i| async move {
                let uid = format!("bench-link-{run}-{i:06}");
                let customer = match app
                    .customers()
                    .create_anonymous(CustomerDisplayName::parse(Some(&format!("Link {i}")))?, Some(&uid))
                    .await?
                {
                    outcome => outcome.value().ok_or_else(|| anyhow::anyhow!("no customer"))?,
                };
                let phone = format!("+62815{i:08}");
                let token = minter.token(&Persona::PhoneCustomer { uid: uid.clone(), phone: phone.clone() });
                anyhow::Ok((customer.id, token, uid, phone))
            })
            .buffer_unordered(8)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<anyhow::Result<_>>()?;
        Ok(Self {
            events,
            admin,
            client,
            client_customer,
            poller,
            mitra,
            status_mitra,
            operator_role,
            operator,
            fresh_anonymous: Mutex::new(fresh_anonymous),
            links: Mutex::new(links),
            serial: AtomicU64::new(0),
        })
    }

    /// The route's event fixture, its placeholders filled for a successful request; one-use
    /// identities are taken from the pools. An open route is sent with a fresh anonymous token,
    /// its heavier path (the customer is bound to the token's uid).
    fn event(&self, route: &Route) -> anyhow::Result<Vec<u8>> {
        Ok(self.event_and_one_use(route)?.0)
    }

    /// [`Fixtures::event`], and the one-use values in it (new uids, phones, emails, the
    /// customer to link), always in the same order for a route: a replayed write of the
    /// floor takes a new event's values in place of the recorded ones.
    fn event_and_one_use(&self, route: &Route) -> anyhow::Result<(Vec<u8>, Vec<String>)> {
        let n = self.serial.fetch_add(1, Ordering::Relaxed);
        let template = self.events.get(route.name).with_context(|| format!("no event fixture for {}", route.name))?;
        let mut vars: HashMap<&str, String> = HashMap::new();
        let mut one_use = Vec::new();
        let token = match (route.name, route.access) {
            ("client-auth-verify", _) => self.client.clone(),
            ("mitra-auth-verify", _) => self.mitra.clone(),
            ("customer-link", _) => {
                let (id, token, uid, phone) = self.links.lock().unwrap().pop_front().context("link pool empty")?;
                one_use.extend([id.to_string(), uid.clone(), phone]);
                vars.insert("CUSTOMER_ID", id.to_string());
                vars.insert("UID", uid);
                token
            }
            (_, Access::Open) => {
                let (token, uid) = self.fresh_anonymous.lock().unwrap().pop_front().context("anonymous pool empty")?;
                one_use.push(uid);
                token
            }
            (_, Access::Token) => self.poller.clone(),
            (_, Access::ControlCenter(_) | Access::ControlCenterLogin) => self.admin.clone(),
        };
        vars.insert("TOKEN", token.clone());
        let mut text = String::with_capacity(template.len() + token.len());
        let mut rest = template.as_str();
        while let Some(start) = rest.find("{{") {
            let end = rest[start..].find("}}").map(|e| start + e).context("an unclosed {{ placeholder")?;
            let name = &rest[start + 2..end];
            let value = match (vars.get(name), name) {
                (Some(value), _) => value.clone(),
                (None, "PHONE") => {
                    let phone = format!("+62813{:08}", 1000 + n);
                    one_use.push(phone.clone());
                    phone
                }
                (None, "EMAIL") => {
                    let email = format!("bench-operator-{n}@halobestie.com");
                    one_use.push(email.clone());
                    email
                }
                (None, "ROLE_ID") => self.operator_role.to_string(),
                (None, "USER_ID") => self.operator.to_string(),
                (None, "MITRA_ID") => self.status_mitra.to_string(),
                (None, "CUSTOMER_ID") => self.client_customer.to_string(),
                (None, other) => bail!(
                    "events/{}.json has {{{{{other}}}}}: give it a value in the bench driver's Fixtures::event",
                    route.name
                ),
            };
            text.push_str(&rest[..start]);
            text.push_str(&value);
            rest = &rest[end + 2..];
        }
        text.push_str(rest);
        let mut event: Value = serde_json::from_str(&text).with_context(|| format!("events/{}.json", route.name))?;
        event["requestContext"]["requestId"] = json!(uuid::Uuid::new_v4().to_string());
        if route.access == Access::Open {
            let bearer = format!("Bearer {token}");
            event["headers"]["Authorization"] = json!(bearer);
            event["multiValueHeaders"]["Authorization"] = json!([bearer]);
        }
        Ok((serde_json::to_vec(&event)?, one_use))
    }
}

/// The `{{NAME}}` placeholders [`Fixtures::event_and_one_use`] knows how to fill.
const PLACEHOLDERS: [&str; 8] = ["TOKEN", "CUSTOMER_ID", "UID", "PHONE", "EMAIL", "ROLE_ID", "MITRA_ID", "USER_ID"];

/// Why the driver cannot measure a function yet, if it cannot: it would need a fresh entity
/// prepared for every invocation, which the driver does not do yet.
fn cannot_drive(route: &Route, fixtures: &Fixtures) -> Option<String> {
    if route.method == "DELETE" {
        return Some(
            "a DELETE consumes the entity it acts on, and the driver does not yet prepare one per invocation".into(),
        );
    }
    let template = fixtures.events.get(route.name)?;
    let unknown: Vec<&str> = template
        .split("{{")
        .skip(1)
        .filter_map(|rest| rest.split_once("}}").map(|(name, _)| name))
        .filter(|name| !PLACEHOLDERS.contains(name))
        .collect();
    (!unknown.is_empty()).then(|| {
        format!(
            "events/{}.json needs {} (an entity the driver does not yet prepare)",
            route.name,
            unknown.iter().map(|n| format!("{{{{{n}}}}}")).collect::<Vec<_>>().join(", ")
        )
    })
}

/// Spawn → first response of one fresh process of `binary`, answering `event`.
async fn cold_start(env: &FunctionEnv, binary: &Path, name: &str, event: Vec<u8>) -> anyhow::Result<Duration> {
    Ok(cold_start_with(env, binary, name, event, &[]).await?.0)
}

/// [`cold_start`] with variables added to the environment; also the status answered.
async fn cold_start_with(
    env: &FunctionEnv,
    binary: &Path,
    name: &str,
    event: Vec<u8>,
    overrides: &[(&str, String)],
) -> anyhow::Result<(Duration, u16)> {
    let api = RuntimeApi::start().await?;
    let answer = api.submit(event);
    let t0 = Instant::now();
    let child = env.spawn(binary, name, &api, overrides).await?;
    let outcome = api.wait(answer).await.with_context(|| format!("cold start of {name}"));
    stop(child).await;
    let outcome = outcome?;
    expect_success(name, &outcome)?;
    Ok((outcome.received_at - t0, status_of(&outcome)?))
}

fn expect_success(name: &str, outcome: &bench::emulator::Outcome) -> anyhow::Result<()> {
    let status = status_of(outcome).with_context(|| name.to_owned())?;
    if !(200..300).contains(&status) {
        bail!("{name} answered {status}: {}", String::from_utf8_lossy(&outcome.body));
    }
    Ok(())
}

struct Sizes {
    binary: u64,
    zip: u64,
}

fn sizes(bin: &Path, zip_dir: &Path, name: &str) -> anyhow::Result<Sizes> {
    let binary = std::fs::metadata(bin)?.len();
    let zip = zip_dir.join(format!("{name}.zip"));
    let status = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile\n\
             with zipfile.ZipFile(sys.argv[2], 'w', zipfile.ZIP_DEFLATED, compresslevel=9) as z:\n\
             \x20   z.write(sys.argv[1], 'bootstrap')",
        ])
        .arg(bin)
        .arg(&zip)
        .status()
        .context("running python3 to zip")?;
    if !status.success() {
        bail!("zipping {name} failed");
    }
    Ok(Sizes { binary, zip: std::fs::metadata(&zip)?.len() })
}

fn is_stripped(bin: &Path) -> bool {
    // An ELF with symbols has a `.symtab` section name in its string table.
    std::fs::read(bin).map(|bytes| !bytes.windows(8).any(|w| w == b".symtab\0")).unwrap_or(false)
}

/// Criterion's median estimate for one benchmark, in µs.
fn criterion_median_us(dir: &Path, id: &str) -> Option<f64> {
    let text = std::fs::read_to_string(dir.join(id).join("new/estimates.json")).ok()?;
    let value: Value = serde_json::from_str(&text).ok()?;
    value["median"]["point_estimate"].as_f64().map(|ns| ns / 1000.0)
}

struct Warm {
    p50: Duration,
    p99: Duration,
    floor_p50: Duration,
    floor_p99: Duration,
    script: String,
    /// Sequential storage steps of one warm request (concurrent calls count once).
    groups: usize,
    rss_after_100: u64,
    rss_end: u64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse()?;
    let started = Instant::now();
    let ddb_url =
        std::env::var("AWS_ENDPOINT_URL_DYNAMODB").context("AWS_ENDPOINT_URL_DYNAMODB (source scripts/env.sh)")?;
    let ssm_url = std::env::var("AWS_ENDPOINT_URL_SSM").context("AWS_ENDPOINT_URL_SSM (source scripts/env.sh)")?;
    let project = std::env::var("FIREBASE_PROJECT_ID").unwrap_or_else(|_| "halobestie-local".into());
    let admin_email = std::env::var("SUPER_ADMIN_EMAIL").unwrap_or_else(|_| "admin@halobestie.com".into());
    std::fs::create_dir_all(args.out_dir.join("logs"))?;
    std::fs::create_dir_all(args.out_dir.join("zip"))?;
    for entry in std::fs::read_dir(args.out_dir.join("logs"))? {
        let _ = std::fs::remove_file(entry?.path());
    }

    // The signing keys, served locally as Google serves them.
    let certs = CertServer::dev_key("127.0.0.1:0", 3600).await?;
    let certs_url = certs.url().to_owned();
    let run = format!("bench{}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs());
    let app_vars = function::app_vars(&project, &certs_url, &run);
    let app = function::app(&app_vars).await?;
    shared::seed::prepare_local(&app, &admin_email).await?;
    let minter = Minter::dev(&project)?;
    // One-use identities: ours and the peer's two runs per cold-start round, warm-up, and each
    // measured request and its floor's replay (a replayed write takes new ones too).
    let pool = 3 * args.spawns + args.warmup + 2 * args.warm + 16;
    let fixtures = Fixtures::new(&app, &minter, &admin_email, pool, &args.events).await?;
    app.verifier.verify(&fixtures.admin).await.context("the dev token does not verify in-process")?;
    eprintln!("bench: fixtures ready in {:.1}s", started.elapsed().as_secs_f64());
    if std::env::var("BENCH_PROBE").is_ok() {
        return probe(&app, &ddb_url).await;
    }

    let env = FunctionEnv::local(&app_vars, &ddb_url, &ssm_url, args.out_dir.join("logs"));

    // BENCH_ONLY=mitras-list,… limits the run to some functions (for investigating one).
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let mut functions: Vec<Route> =
        routes::ALL.into_iter().filter(|r| only.is_empty() || only.split(',').any(|n| n == r.name)).collect();
    let mut skipped: Vec<(&str, String)> = Vec::new();
    functions.retain(|route| match cannot_drive(route, &fixtures) {
        Some(reason) => {
            eprintln!("bench: SKIPPING {}: {reason}", route.name);
            skipped.push((route.name, reason));
            false
        }
        None => true,
    });
    let bin = |name: &str| args.bin_dir.join(name);
    for name in functions.iter().map(|r| r.name).chain([HELLO]) {
        if !bin(name).is_file() {
            bail!("{} is missing: build release first", bin(name).display());
        }
    }
    let peer_dir = args.peer_dir.clone().unwrap_or_else(|| args.bin_dir.clone());
    let peers: Vec<(&str, PathBuf)> = PEERS
        .iter()
        .filter(|(ours, _)| functions.iter().any(|r| r.name == *ours))
        .map(|(ours, peer)| (*ours, peer_dir.join(peer)))
        .collect();
    for (_, peer) in &peers {
        if !peer.is_file() {
            bail!(
                "{} is missing: build the peer (cargo build --release --manifest-path bench/peer/Cargo.toml --target-dir <the same target>)",
                peer.display()
            );
        }
    }
    if !Path::new(SYSTEM_CA_BUNDLE).is_file() {
        bail!("{SYSTEM_CA_BUNDLE} is missing: the peer's SSL_CERT_FILE run needs the system CA bundle");
    }

    // BENCH_COMPARE=dirA,dirB,…: cold starts only, of the same functions from several builds,
    // interleaved spawn by spawn so background load falls on every build alike.
    if let Ok(dirs) = std::env::var("BENCH_COMPARE") {
        let dirs: Vec<PathBuf> = dirs.split(',').map(PathBuf::from).collect();
        let hello_event = apigw_event("GET", "/hello", "/hello", None, None, &[], &[]);
        let mut cold: HashMap<(usize, &str), Vec<Duration>> = HashMap::new();
        for _ in 0..args.spawns {
            for name in [HELLO].into_iter().chain(functions.iter().map(|r| r.name)) {
                for (d, dir) in dirs.iter().enumerate() {
                    // A fresh event per spawn: a write replayed on a second build would be a 409.
                    let event = match functions.iter().find(|r| r.name == name) {
                        Some(route) => fixtures.event(route)?,
                        None => hello_event.clone(),
                    };
                    let took = cold_start(&env, &dir.join(name), name, event).await?;
                    cold.entry((d, name)).or_default().push(took);
                }
            }
        }
        print!("| function |");
        for dir in &dirs {
            print!(" {} cold p50 ms |", dir.display());
        }
        println!();
        for name in [HELLO].into_iter().chain(functions.iter().map(|r| r.name)) {
            print!("| {name} |");
            for d in 0..dirs.len() {
                print!(" {:.1} |", ms(median(&cold[&(d, name)])));
            }
            println!();
        }
        return Ok(());
    }

    // 5. Size.
    let mut size = HashMap::new();
    for name in functions.iter().map(|r| r.name).chain([HELLO]) {
        size.insert(name, sizes(&bin(name), &args.out_dir.join("zip"), name)?);
    }
    let mut peer_size = HashMap::new();
    for (ours, peer) in &peers {
        let name = peer.file_name().and_then(|n| n.to_str()).unwrap_or("peer");
        peer_size.insert(*ours, sizes(peer, &args.out_dir.join("zip"), name)?);
    }
    // The aarch64 builds, zipped the same way; a missing one is left out with a warning.
    let mut arm64_zip: HashMap<&str, u64> = HashMap::new();
    if let Some(dir) = &args.arm64_dir {
        let zip_dir = args.out_dir.join("zip-arm64");
        std::fs::create_dir_all(&zip_dir)?;
        for name in functions.iter().map(|r| r.name) {
            let bootstrap = dir.join(name).join("bootstrap");
            match sizes(&bootstrap, &zip_dir, name) {
                Ok(s) => {
                    arm64_zip.insert(name, s.zip);
                }
                Err(e) => eprintln!("bench: WARNING: no arm64 zip for {name} ({}): {e:#}", bootstrap.display()),
            }
        }
    }
    let unstripped: Vec<_> = functions.iter().map(|r| r.name).filter(|n| !is_stripped(&bin(n))).collect();
    if !unstripped.is_empty() {
        eprintln!("bench: WARNING: not stripped: {unstripped:?}");
    }

    warm_up_dynamodb_local(&app).await;

    // 1. Cold start: spawn → first response, rounds interleaved so background load hits all alike.
    let hello_event = apigw_event("GET", "/hello", "/hello", None, None, &[], &[]);
    // A function with a peer is spawned three times in a row — ours, the peer as written, the
    // peer given SSL_CERT_FILE — in an order that rotates from round to round.
    let mut cold: HashMap<&str, Vec<Duration>> = HashMap::new();
    let mut peer_cold: HashMap<(&str, PeerRun), Vec<Duration>> = HashMap::new();
    for round in 0..args.spawns {
        for name in [HELLO].into_iter().chain(functions.iter().map(|r| r.name)) {
            let Some(route) = functions.iter().find(|r| r.name == name) else {
                cold.entry(name).or_default().push(cold_start(&env, &bin(name), name, hello_event.clone()).await?);
                continue;
            };
            let Some((_, peer)) = peers.iter().find(|(ours, _)| *ours == name) else {
                cold.entry(name).or_default().push(cold_start(&env, &bin(name), name, fixtures.event(route)?).await?);
                continue;
            };
            let mut runs = [None, Some(PeerRun::AsWritten), Some(PeerRun::CertFile)];
            runs.rotate_left(round % 3);
            let mut statuses = Vec::new();
            for run in runs {
                let event = fixtures.event(route)?;
                let (took, status) = match run {
                    None => cold_start_with(&env, &bin(name), name, event, &[]).await?,
                    Some(PeerRun::AsWritten) => cold_start_with(&env, peer, name, event, &[]).await?,
                    Some(PeerRun::CertFile) => {
                        let cert_file = [("SSL_CERT_FILE", SYSTEM_CA_BUNDLE.to_owned())];
                        cold_start_with(&env, peer, name, event, &cert_file).await?
                    }
                };
                match run {
                    None => cold.entry(name).or_default().push(took),
                    Some(run) => peer_cold.entry((name, run)).or_default().push(took),
                }
                statuses.push(status);
            }
            if statuses.iter().any(|s| *s != statuses[0]) {
                bail!(
                    "{name} and its peer answered differently ({statuses:?}, in the order {runs:?}): not the same work"
                );
            }
        }
        eprintln!("bench: cold-start round {}/{} done", round + 1, args.spawns);
    }

    // The hello-world function warm, to split a cold start into init and request.
    let hello_warm = {
        let api = RuntimeApi::start().await?;
        let child = env.spawn(&bin(HELLO), HELLO, &api, &[]).await?;
        let mut samples = Vec::new();
        for i in 0..110 {
            let answer = api.submit(hello_event.clone());
            let t0 = Instant::now();
            let outcome = api.wait(answer).await?;
            if i >= 10 {
                samples.push(outcome.received_at - t0);
            }
        }
        stop(child).await;
        median(&samples)
    };

    // 2 + 6. Warm latency through the event path, the raw floor of the same storage work, RSS.
    // Held answers only shape the recorded timeline; the floor replays straight to the stand-in.
    let ddb_rec = Recorder::holding(&ddb_url, Duration::from_millis(25)).await?;
    let ssm_rec = Recorder::start(&ssm_url).await?;
    let raw_http = reqwest::Client::builder().pool_max_idle_per_host(8).build()?;
    let anchor_key =
        HashMap::from([("pk".to_owned(), AttributeValue::S(format!("CUSTOMER#{}", fixtures.client_customer)))]);
    let (app_ref, key_ref) = (&app, &anchor_key);
    let get_item = move || async move {
        let t = Instant::now();
        let out = app_ref
            .dynamo
            .get_item()
            .table_name(&app_ref.tables.customers)
            .set_key(Some(key_ref.clone()))
            .send()
            .await?;
        if out.item.is_none() {
            bail!("anchor item missing");
        }
        anyhow::Ok(t.elapsed())
    };
    for _ in 0..50 {
        get_item().await?;
    }
    // The same GetItem's bytes, recorded once, to split an SDK call into wire time and SDK time.
    let anchor_script = {
        let sdk = App::sdk_config(&app.config).await;
        let client = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&sdk).endpoint_url(ddb_rec.url()).build(),
        );
        ddb_rec.take();
        client.get_item().table_name(&app.tables.customers).set_key(Some(anchor_key.clone())).send().await?;
        Script::from_calls(ddb_rec.take().into_iter().map(|c| (ddb_url.clone(), c)).collect())
    };
    // BENCH_FLOOR_AS_RECORDED=1: replay writes byte for byte (same ids and ClientRequestToken,
    // so DynamoDB answers them as idempotent repeats): the floor as it was, for comparison.
    let floor_as_recorded = std::env::var("BENCH_FLOOR_AS_RECORDED").is_ok_and(|v| v == "1");
    let mut anchor: Vec<Duration> = Vec::new();
    let mut anchor_raw: Vec<Duration> = Vec::new();
    let mut warm: HashMap<&str, Warm> = HashMap::new();
    let mut not_warm: Vec<(&str, String)> = Vec::new();
    for route in &functions {
        let name = route.name;
        // The storage script of one warm request, recorded from a process of its own.
        let script = {
            let api = RuntimeApi::start().await?;
            let child = env
                .spawn(
                    &bin(name),
                    name,
                    &api,
                    &[("AWS_ENDPOINT_URL_DYNAMODB", ddb_rec.url()), ("AWS_ENDPOINT_URL_SSM", ssm_rec.url())],
                )
                .await?;
            let mut result = Ok(Script::default());
            let mut recorded = (Vec::new(), Vec::new());
            for i in 0..4 {
                if i == 3 {
                    ddb_rec.take();
                    ssm_rec.take();
                }
                let (event, one_use) = fixtures.event_and_one_use(route)?;
                recorded = (event.clone(), one_use);
                match api.invoke(event).await {
                    Ok(outcome) => expect_success(name, &outcome)?,
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                }
            }
            stop(child).await;
            let mut calls: Vec<_> = ddb_rec.take().into_iter().map(|c| (ddb_url.clone(), c)).collect();
            calls.extend(ssm_rec.take().into_iter().map(|c| (ssm_url.clone(), c)));
            let (event, one_use) = recorded;
            result.map(|_| Script::from_calls(calls).fresh(&event, one_use))?
        };
        // A write conditioned on what the request read (e.g. a mitra's phone as it was) cannot
        // be replayed once a request has changed it; such a function has no floor yet.
        if script.calls() > 0 && !floor_as_recorded {
            let one_use: Vec<(String, String)> = if script.needs_one_use() {
                let (_, new) = fixtures.event_and_one_use(route)?;
                script.one_use_recorded().iter().cloned().zip(new).collect()
            } else {
                Vec::new()
            };
            if let Err(e) = script.replay(&raw_http, &one_use, false).await {
                let reason = format!("its storage calls cannot be replayed as a floor ({e:#})");
                eprintln!("bench: SKIPPING warm {name}: {reason}");
                not_warm.push((name, reason));
                continue;
            }
        }
        let api = RuntimeApi::start().await?;
        let child = env.spawn(&bin(name), name, &api, &[]).await?;
        let mut invocations = 0usize;
        let mut rss_after_100 = 0;
        let mut samples = Vec::with_capacity(args.warm);
        let mut floor = Vec::with_capacity(args.warm);
        let mut floor_failed: Option<anyhow::Error> = None;
        let run = async {
            for _ in 0..args.warmup {
                let outcome = api.invoke(fixtures.event(route)?).await?;
                expect_success(name, &outcome)?;
                invocations += 1;
            }
            for _ in 0..args.warm {
                let event = fixtures.event(route)?;
                let answer = api.submit(event);
                let t0 = Instant::now();
                let outcome = api.wait(answer).await?;
                samples.push(outcome.received_at - t0);
                expect_success(name, &outcome)?;
                invocations += 1;
                if invocations == 100 {
                    rss_after_100 = peak_rss(&child)?;
                }
                let raw = get_item().await?;
                anchor.push(raw);
                anchor_raw.push(anchor_script.replay(&raw_http, &[], true).await?);
                if script.calls() == 0 {
                    floor.push(raw);
                    continue;
                }
                // A new request's one-use values for the replayed writes (from the same pools).
                let one_use: Vec<(String, String)> = if script.needs_one_use() && !floor_as_recorded {
                    let (_, new) = fixtures.event_and_one_use(route)?;
                    script.one_use_recorded().iter().cloned().zip(new).collect()
                } else {
                    Vec::new()
                };
                // A write conditioned on state the requests change may stop replaying part way.
                match script.replay(&raw_http, &one_use, floor_as_recorded).await {
                    Ok(took) => floor.push(took),
                    Err(e) => {
                        floor_failed = Some(e);
                        break;
                    }
                }
            }
            anyhow::Ok(())
        };
        let result = run.await;
        let rss_end = peak_rss(&child).unwrap_or(0);
        stop(child).await;
        result.with_context(|| format!("warm run of {name}"))?;
        if let Some(e) = floor_failed {
            let reason = format!("its storage calls stopped replaying as a floor ({e:#})");
            eprintln!("bench: SKIPPING warm {name}: {reason}");
            not_warm.push((name, reason));
            continue;
        }
        if rss_after_100 == 0 {
            rss_after_100 = rss_end;
        }
        eprintln!(
            "bench: warm {name}: p50 {:.2} ms, floor {:.2} ms ({})",
            ms(median(&samples)),
            ms(median(&floor)),
            script.describe()
        );
        warm.insert(
            name,
            Warm {
                p50: median(&samples),
                p99: percentile(&samples, 99.0),
                floor_p50: median(&floor),
                floor_p99: percentile(&floor, 99.0),
                script: script.describe(),
                groups: script.groups.len(),
                rss_after_100,
                rss_end,
            },
        );
    }

    // 4. SSM: GetParameter calls while one process serves 1000 anonymity GETs over 5 s.
    let ssm_calls = {
        let route = routes::PUBLIC_ANONYMITY_GET;
        ssm_rec.take();
        let api = RuntimeApi::start().await?;
        let child = env.spawn(&bin(route.name), route.name, &api, &[("AWS_ENDPOINT_URL_SSM", ssm_rec.url())]).await?;
        let events: Vec<_> = (0..args.ssm_gets).map(|_| fixtures.event(&route)).collect::<Result<_, _>>()?;
        let t0 = Instant::now();
        let step = args.ssm_window / args.ssm_gets as u32;
        let mut result = Ok(());
        for (i, event) in events.into_iter().enumerate() {
            tokio::time::sleep_until((t0 + step * i as u32).into()).await;
            match api.invoke(event).await.and_then(|o| expect_success(route.name, &o)) {
                Ok(()) => {}
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        let elapsed = t0.elapsed();
        stop(child).await;
        result?;
        let calls = ssm_rec.count("AmazonSSM.GetParameter");
        eprintln!("bench: ssm: {} GETs in {:.2}s, {calls} GetParameter calls", args.ssm_gets, elapsed.as_secs_f64());
        calls
    };

    // 3. Token verification, from criterion's results.
    let verify_fresh = criterion_median_us(&args.criterion_dir, "verify/fresh_token");
    let verify_repeat = criterion_median_us(&args.criterion_dir, "verify/repeated_token");

    // The table.
    let hello_cold = median(&cold[HELLO]);
    let anchor_p50 = median(&anchor);
    let anchor_p99 = percentile(&anchor, 99.0);
    let anchor_raw_p50 = median(&anchor_raw);
    // What the SDK adds to one call over the same bytes sent raw (signing, serialisation, retries, parsing).
    let sdk_per_call = anchor_p50.saturating_sub(anchor_raw_p50);
    let sdk_floor = |w: &Warm| {
        if w.groups == 0 { anchor_p50 } else { w.floor_p50 + sdk_per_call * w.groups as u32 }
    };
    let arm64 = args.arm64_dir.is_some();
    // The last column, present only with --arm64-dir.
    let arm64_cell = |name: &str| match (arm64, arm64_zip.get(name)) {
        (false, _) => String::new(),
        (true, Some(zip)) => format!(" {:.2} |", *zip as f64 / MB),
        (true, None) => " |".to_owned(),
    };
    let mut table = String::new();
    let mut header = String::from(
        "| function | cold p50 ms | cold ratio | cold − hello ms | peer cold p50 ms (SSL_CERT_FILE / as written) | peer cold ratio (ours / peer, SSL_CERT_FILE) | peer cold ratio (as written) | init ms (cold − warm p50) | init ratio | warm p50 ms | warm p99 ms | floor p50 ms, raw HTTP | floor p99 ms, raw HTTP | floor p50 ms, via SDK | overhead ratio | strict ratio (vs raw HTTP) | storage calls (warm request) | sequential storage calls | rss after 100 MB | binary MB | zip MB |",
    );
    if arm64 {
        header.push_str(" arm64 zip MB |");
    }
    let columns = header.matches('|').count() - 1;
    writeln!(table, "{header}")?;
    writeln!(table, "|{}", "---|".repeat(columns))?;
    let hello_init = hello_cold.saturating_sub(hello_warm);
    let mut cold_ratio: f64 = 0.0;
    let mut warm_ratio: f64 = 0.0;
    let mut max_zip: u64 = 0;
    let mut max_rss: u64 = 0;
    let mut cold_extra: f64 = f64::MIN;
    let mut max_sequential = 0;
    let mut peer_ratio: Option<f64> = None;
    let mut peer_ratio_as_written: Option<f64> = None;
    let max = |acc: Option<f64>, v: f64| Some(acc.map_or(v, |a| a.max(v)));
    let peer_p50 = |name: &str, run: PeerRun| peer_cold.get(&(name, run)).map(|v| median(v));
    for route in &functions {
        let name = route.name;
        let c = median(&cold[name]);
        let s = &size[name];
        let Some(w) = warm.get(name) else {
            let extra = ms(c) - ms(hello_cold);
            cold_ratio = cold_ratio.max(ms(c) / ms(hello_cold));
            cold_extra = cold_extra.max(extra);
            max_zip = max_zip.max(s.zip);
            write!(
                table,
                "| {name} | {:.1} | {:.2} | {extra:.1} | | | | | | | | | | | | | not measured warm | | | {:.2} | {:.2} |",
                ms(c),
                ms(c) / ms(hello_cold),
                s.binary as f64 / MB,
                s.zip as f64 / MB
            )?;
            writeln!(table, "{}", arm64_cell(name))?;
            continue;
        };
        let cr = ms(c) / ms(hello_cold);
        let wr = ms(w.p50) / ms(sdk_floor(w));
        let extra = ms(c) - ms(hello_cold);
        cold_ratio = cold_ratio.max(cr);
        warm_ratio = warm_ratio.max(wr);
        cold_extra = cold_extra.max(extra);
        max_sequential = max_sequential.max(w.groups);
        max_zip = max_zip.max(s.zip);
        max_rss = max_rss.max(w.rss_after_100);
        // Three cells: the peer's cold p50s, and the two ratios.
        let peer_cells = match (peer_p50(name, PeerRun::CertFile), peer_p50(name, PeerRun::AsWritten)) {
            (Some(cert_file), Some(as_written)) => {
                let (r, r_written) = (ms(c) / ms(cert_file), ms(c) / ms(as_written));
                peer_ratio = max(peer_ratio, r);
                peer_ratio_as_written = max(peer_ratio_as_written, r_written);
                format!(" {:.1} / {:.1} | {r:.2} | {r_written:.2} |", ms(cert_file), ms(as_written))
            }
            _ => " | | |".to_owned(),
        };
        write!(
            table,
            "| {name} | {:.1} | {:.2} | {:.1} |{peer_cells} {:.1} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {} | {:.1} | {:.2} | {:.2} |",
            ms(c),
            cr,
            extra,
            ms(c.saturating_sub(w.p50)),
            ms(c.saturating_sub(w.p50)) / ms(hello_init),
            ms(w.p50),
            ms(w.p99),
            ms(w.floor_p50),
            ms(w.floor_p99),
            ms(sdk_floor(w)),
            wr,
            ms(w.p50) / ms(w.floor_p50),
            w.script,
            w.groups,
            w.rss_after_100 as f64 / MB,
            s.binary as f64 / MB,
            s.zip as f64 / MB,
        )?;
        writeln!(table, "{}", arm64_cell(name))?;
    }
    let blank_tail = if arm64 { " |" } else { "" };
    let h = &size[HELLO];
    writeln!(
        table,
        "| {HELLO} (baseline) | {:.1} | 1.00 | 0.0 | | | | {:.1} | 1.00 | {:.2} | | | | | | | | | | {:.2} | {:.2} |{blank_tail}",
        ms(hello_cold),
        ms(hello_init),
        ms(hello_warm),
        h.binary as f64 / MB,
        h.zip as f64 / MB
    )?;
    for (ours, peer) in &peers {
        let s = &peer_size[ours];
        let name = peer.file_name().and_then(|n| n.to_str()).unwrap_or("peer");
        writeln!(
            table,
            "| {name} (peer of {ours}) | {:.1} | {:.2} | {:.1} | | | | | | | | | | | | | | | | {:.2} | {:.2} |{blank_tail}",
            ms(peer_p50(ours, PeerRun::CertFile).unwrap_or_default()),
            ms(peer_p50(ours, PeerRun::CertFile).unwrap_or_default()) / ms(hello_cold),
            ms(peer_p50(ours, PeerRun::CertFile).unwrap_or_default()) - ms(hello_cold),
            s.binary as f64 / MB,
            s.zip as f64 / MB
        )?;
    }
    writeln!(
        table,
        "| raw DynamoDB Local GetItem (SDK) | | | | | | | | | {:.2} | {:.2} | {:.2} | | {:.2} | | | GetItem | 1 | | | |{blank_tail}",
        ms(anchor_p50),
        ms(anchor_p99),
        ms(anchor_raw_p50),
        ms(anchor_p50)
    )?;
    let fmt_us = |v: Option<f64>| v.map(|v| format!("{v:.2}")).unwrap_or_else(|| "n/a".into());
    let mut notes = String::new();
    writeln!(
        notes,
        "cold: median of {} spawns each; warm: {} invocations after {} warm-up, interleaved with the floors",
        args.spawns, args.warm, args.warmup
    )?;
    writeln!(
        notes,
        "floor: the endpoint's recorded storage calls replayed as raw HTTP (concurrent ones together), plus {:.2} ms of SDK time per sequential step (SDK GetItem p50 {:.2} ms − the same bytes raw {:.2} ms); an endpoint with no storage call is held to one SDK GetItem; {}",
        ms(sdk_per_call),
        ms(anchor_p50),
        ms(anchor_raw_p50),
        if floor_as_recorded {
            "writes replayed byte for byte (BENCH_FLOOR_AS_RECORDED=1: idempotent repeats)"
        } else {
            "writes replayed with new generated ids, ClientRequestTokens and one-use values each time"
        }
    )?;
    for (name, reason) in &skipped {
        writeln!(notes, "not measured: {name}: {reason}")?;
    }
    for (name, reason) in &not_warm {
        writeln!(notes, "not measured warm: {name}: {reason}")?;
    }
    if !peers.is_empty() {
        writeln!(
            notes,
            "peer: bench/peer, the same first request written as aws-lambda-rust-runtime's examples write it; spawned right after or before ours in every round, as written and with SSL_CERT_FILE={SYSTEM_CA_BUNDLE} (as ours set it)"
        )?;
    }
    writeln!(
        notes,
        "verify (criterion median): fresh token {} µs, repeated token {} µs",
        fmt_us(verify_fresh),
        fmt_us(verify_repeat)
    )?;
    writeln!(
        notes,
        "ssm: {ssm_calls} GetParameter calls for {} anonymity GETs over {:.0} s (one process)",
        args.ssm_gets,
        args.ssm_window.as_secs_f64()
    )?;
    let rss_end = warm.values().map(|w| w.rss_end).max().unwrap_or(0);
    writeln!(
        notes,
        "peak RSS after all {} invocations of a process: max {:.1} MB",
        args.warmup + args.warm,
        rss_end as f64 / MB
    )?;
    let total = std::env::var("BENCH_STARTED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .and_then(|t0| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok().map(|n| n.as_secs() - t0)
        })
        .map(|s| format!("; scripts/bench.sh wall time {s} s"))
        .unwrap_or_default();
    writeln!(notes, "MB = 10^6 bytes; driver wall time {:.0} s{total}", started.elapsed().as_secs_f64())?;
    let fmt_ratio = |v: Option<f64>| v.map(|v| format!("{v:.2}")).unwrap_or_else(|| "n/a".into());
    let mut summary = format!(
        "bench: cold_ratio={:.2} warm_overhead_ratio={:.2} verify_fresh_us={} verify_repeat_us={} ssm_calls={} max_zip_mb={:.2} max_rss_mb={:.1} peer_cold_ratio={} peer_cold_ratio_as_written={} cold_extra_ms={:.1} max_sequential_calls={}",
        cold_ratio,
        warm_ratio,
        fmt_us(verify_fresh),
        fmt_us(verify_repeat),
        ssm_calls,
        max_zip as f64 / MB,
        max_rss as f64 / MB,
        fmt_ratio(peer_ratio),
        fmt_ratio(peer_ratio_as_written),
        cold_extra,
        max_sequential,
    );
    if let Some(max_arm64) = arm64_zip.values().max() {
        write!(summary, " max_arm64_zip_mb={:.2}", *max_arm64 as f64 / MB)?;
    }
    std::fs::write(args.out_dir.join("table.md"), format!("{table}\n{notes}\n{summary}\n"))?;
    let _ = cleanup(&app).await;
    println!("{table}");
    print!("{notes}");
    println!("{summary}");
    Ok(())
}

/// Drops this run's tables (DynamoDB Local keeps them in memory otherwise).
async fn cleanup(app: &App) -> anyhow::Result<()> {
    let t = &app.tables;
    for table in [&t.customers, &t.mitras, &t.control_center_users, &t.roles] {
        app.dynamo.delete_table().table_name(table).send().await?;
    }
    let _ = app.ssm.delete_parameter().name(&app.config.anonymity_parameter).send().await;
    Ok(())
}

/// BENCH_PROBE=1: customer creation through the SDK (our store code, in-process) against
/// the same request bytes sent raw: how much of a warm write is SDK time.
async fn probe(app: &App, ddb_url: &str) -> anyhow::Result<()> {
    let rec = Recorder::start(ddb_url).await?;
    let sdk = App::sdk_config(&app.config).await;
    let dynamo = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&sdk).endpoint_url(rec.url()).build(),
    );
    let rec_app = App::with_clients(app.config.clone(), dynamo, app.ssm.clone())?;
    rec_app.customers().create_anonymous(CustomerDisplayName::parse(Some("Probe"))?, Some("probe-recorded")).await?;
    let script = Script::from_calls(rec.take().into_iter().map(|c| (ddb_url.to_owned(), c)).collect())
        .fresh(b"", vec!["probe-recorded".into()]);
    let raw_http = reqwest::Client::new();
    let (mut via_sdk, mut raw) = (Vec::new(), Vec::new());
    for i in 0..300 {
        let t = Instant::now();
        app.customers()
            .create_anonymous(
                CustomerDisplayName::parse(Some(&format!("Probe {i}")))?,
                Some(&format!("probe-{i}-{}", std::process::id())),
            )
            .await?;
        via_sdk.push(t.elapsed());
        let one_use = [("probe-recorded".to_owned(), format!("probe-raw-{i:04}-{}", std::process::id()))];
        raw.push(script.replay(&raw_http, &one_use, false).await?);
    }
    println!(
        "probe: create_anonymous via SDK p50 {:.2} ms, same bytes raw p50 {:.2} ms ({})",
        ms(median(&via_sdk)),
        ms(median(&raw)),
        script.describe()
    );
    Ok(())
}

/// A DynamoDB Local just started keeps compiling its request path (the JVM's JIT) for a while,
/// and those compiler threads take CPU from the processes being timed: the first cold-start
/// rounds of a run measured hello-world 50 % slower than the same rounds minutes later.
/// Reads of every kind the functions make, then a pause for the compilers to finish.
async fn warm_up_dynamodb_local(app: &App) {
    let started = Instant::now();
    let t = &app.tables;
    let key = |pk: &str| HashMap::from([("pk".to_owned(), AttributeValue::S(pk.to_owned()))]);
    futures::stream::iter(0..3000)
        .for_each_concurrent(8, |i| {
            let table = [&t.customers, &t.mitras, &t.control_center_users, &t.roles][i % 4];
            async move {
                let _ = match i % 3 {
                    0 => app.dynamo.get_item().table_name(table).set_key(Some(key("#warm-up"))).send().await.is_ok(),
                    1 => {
                        let keys = aws_sdk_dynamodb::types::KeysAndAttributes::builder()
                            .keys(key("#warm-up"))
                            .consistent_read(true)
                            .build()
                            .expect("keys are set");
                        app.dynamo.batch_get_item().request_items(table, keys).send().await.is_ok()
                    }
                    _ => app
                        .dynamo
                        .query()
                        .table_name(table)
                        .key_condition_expression("pk = :pk")
                        .expression_attribute_values(":pk", AttributeValue::S("#warm-up".into()))
                        .send()
                        .await
                        .is_ok(),
                };
            }
        })
        .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    eprintln!("bench: DynamoDB Local warmed up in {:.1}s", started.elapsed().as_secs_f64());
}
