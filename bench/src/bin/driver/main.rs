//! The bench driver: runs every measurement of `scripts/bench.sh` against the release
//! binaries in `--bin-dir`, prints its tables, and ends with the one-line summary:
//!
//! `bench: cold_ratio=… warm_overhead_ratio=… verify_fresh_us=… verify_repeat_us=… ssm_calls=… max_zip_mb=… max_rss_mb=… peer_cold_ratio=… peer_cold_ratio_as_written=… cold_extra_ms=… max_sequential_calls=… cold_cpu_ms=… warm_cpu_us=… peer_cold_cpu_ratio=… peer_warm_cpu_ratio=… cold_p50_ms_128=… peer_cold_ratio_128=… warm_p50_ms_256=… [max_arm64_zip_mb=…]`
//!
//! - `peer_cold_ratio`: the largest of our cold p50 / the peer's (bench/peer: the same first
//!   request written the usual way), the peer given `SSL_CERT_FILE` as ours set it;
//!   `peer_cold_ratio_as_written` against the peer as written. Ours and the peer's runs
//!   are spawned one after another in every round, in a rotating order.
//! - `cold_extra_ms`: the largest of our cold p50 − bench-hello's.
//! - `max_sequential_calls`: the most storage round trips one warm request makes one after
//!   another (calls that overlapped in time count once).
//! - `cold_cpu_ms`, `warm_cpu_us`: the largest CPU time of a cold start (exec through the
//!   first answer, median) and of a warm request (mean over the measured ones), at a full
//!   core; `peer_cold_cpu_ratio`, `peer_warm_cpu_ratio`: ours over the peer's, the largest.
//! - `cold_p50_ms_128`, `peer_cold_ratio_128`, `warm_p50_ms_256`: at that memory's CPU share
//!   (a CFS quota from the first `invocation/next` on, Lambda's init boost), the largest.
//! - With `--rie`, each function's cold start also runs under AWS's Runtime Interface
//!   Emulator, and its table gives the RIE's `INIT REPORT` and `REPORT` figures beside ours.
//! - `max_arm64_zip_mb`: with `--arm64-dir`, the largest zip of the aarch64 builds.
//!
//! The stand-ins and the certificate server are reached over HTTPS through TLS fronts whose
//! CA the functions trust as `EXTRA_CA_FILE` (the peer: in `SSL_CERT_FILE`); `--no-tls` for
//! plain HTTP. CPU is counted per process by cgroup `cpuacct` where cgroups are writable,
//! else from its threads' schedstat; without cgroups there are no CPU-share figures.
//!
//! The warm floor replays each function's recorded storage calls with new generated ids,
//! `ClientRequestToken`s and one-use values every time, so writes are really redone.
//! Functions it cannot drive yet (a DELETE consumes its entity) are skipped with the reason
//! printed; one whose writes cannot be replayed has no floor.
//!
//! Needs the stand-ins (`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_SSM`, credentials
//! and region in the environment, as `scripts/env.sh` sets them). `BENCH_PORTS=first-last`
//! keeps every server the driver starts in that port range.

mod fixtures;
mod measure;
mod report;
mod setup;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bench::cpu::{Cgroups, Share};
use bench::process::{Endpoints, FunctionEnv};
use bench::tls::Fronts;
use devkit::certs::CertServer;
use devkit::devtoken::Minter;
use shared::App;
use shared::routes::{self, Route};

use crate::fixtures::{Fixtures, cannot_drive};

const HELLO: &str = "bench-hello";
const MB: f64 = 1_000_000.0;
/// Our functions that have a peer in bench/peer, and the peer's binary.
const PEERS: [(&str, &str); 2] =
    [("client-auth-verify", "peer-client-auth-verify"), ("customer-anonymous", "peer-customer-anonymous")];
/// The system CA bundle our functions point `SSL_CERT_FILE` at (`shared::lambda::start`).
const SYSTEM_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";
/// The system's certificate directory, which the peer as written reads whole.
const SYSTEM_CA_DIR: &str = "/etc/ssl/certs";
/// Warm-up invocations of a process before its measured ones at a memory's share.
const SHARE_WARMUP: usize = 10;

/// The two ways the peer is started: as written, and given `SSL_CERT_FILE` as ours set it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum PeerRun {
    AsWritten,
    CertFile,
}

/// Which program ran: ours (or bench-hello), or the peer of ours.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Who {
    Ours,
    Peer(PeerRun),
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
    /// Memory sizes (MB) whose CPU share every function also runs at, as a CFS quota with
    /// Lambda's init boost (needs writable cgroups).
    #[arg(long, value_delimiter = ',', default_value = "128,256,512")]
    memory: Vec<u32>,
    /// The memory size of the cold starts at its share from exec on (no init boost).
    #[arg(long, default_value_t = 256)]
    no_boost_memory: u32,
    /// Back-to-back warm invocations measured per function at each memory's share.
    #[arg(long, default_value_t = 100)]
    share_warm: usize,
    /// AWS's Runtime Interface Emulator (`scripts/tools.sh rie`): each function's cold start
    /// also runs under it, and its reported figures stand beside ours.
    #[arg(long)]
    rie: Option<PathBuf>,
    /// Cold starts per function under the RIE.
    #[arg(long, default_value_t = 3)]
    rie_spawns: usize,
    /// Reach the stand-ins over plain HTTP instead of through the TLS fronts.
    #[arg(long)]
    no_tls: bool,
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

/// What every phase works with.
struct Run {
    args: Args,
    app: App,
    fixtures: Fixtures,
    env: FunctionEnv,
    functions: Vec<Route>,
    peers: Vec<(&'static str, PathBuf)>,
    skipped: Vec<(&'static str, String)>,
    /// Why there are no CPU-share figures, when there are none.
    no_cgroups: Option<String>,
    ddb_url: String,
    ssm_url: String,
    /// The peer's extra variables, per way it is run.
    peer_vars: HashMap<PeerRun, Vec<(&'static str, String)>>,
    started: Instant,
    /// Kept alive for the run.
    _servers: (Arc<CertServer>, Option<Fronts>),
}

impl Run {
    fn bin(&self, name: &str) -> PathBuf {
        self.args.bin_dir.join(name)
    }

    /// Every CPU share a cold start is measured at: a full core, each memory's with the
    /// init boost, and one without it.
    fn shares(&self) -> Vec<Share> {
        let mut shares = vec![Share::Full];
        if self.env.cgroups.is_some() {
            shares.extend(self.args.memory.iter().map(|mb| Share::Boost(*mb)));
            shares.push(Share::NoBoost(self.args.no_boost_memory));
        }
        shares
    }

    /// The binary and the extra variables of `who` for the function `name`.
    fn program(&self, name: &str, who: Who) -> (PathBuf, &[(&'static str, String)]) {
        match who {
            Who::Ours => (self.bin(name), &[]),
            Who::Peer(run) => {
                let peer = self.peers.iter().find(|(ours, _)| *ours == name).map(|(_, p)| p.clone());
                (peer.unwrap_or_default(), self.peer_vars.get(&run).map(Vec::as_slice).unwrap_or_default())
            }
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let run = setup().await?;
    if std::env::var("BENCH_PROBE").is_ok() {
        return setup::probe(&run.app, &run.ddb_url).await;
    }
    // BENCH_COMPARE=dirA,dirB,…: cold starts only, of the same functions from several builds.
    if let Ok(dirs) = std::env::var("BENCH_COMPARE") {
        return measure::compare(&run, dirs.split(',').map(PathBuf::from).collect()).await;
    }
    let sizes = measure::sizes(&run)?;
    setup::warm_up_dynamodb_local(&run.app).await;
    let phase = Instant::now();
    let cold = measure::cold_rounds(&run).await?;
    eprintln!("bench: cold starts took {:.0}s", phase.elapsed().as_secs_f64());
    let hello = measure::hello_warm(&run).await?;
    let phase = Instant::now();
    let warm = measure::warm_full(&run).await?;
    eprintln!("bench: warm at a full core took {:.0}s", phase.elapsed().as_secs_f64());
    let phase = Instant::now();
    let shares = measure::warm_shares(&run).await?;
    eprintln!("bench: warm at the memories' shares took {:.0}s", phase.elapsed().as_secs_f64());
    let peer_warm = measure::peer_warm(&run).await?;
    let rie = measure::rie_cold(&run).await?;
    let ssm_calls = measure::ssm(&run).await?;
    let results = report::Results { sizes, cold, hello, warm, shares, peer_warm, rie, ssm_calls };
    report::write(&run, &results)?;
    let _ = setup::cleanup(&run.app).await;
    Ok(())
}

/// The stand-ins' tables and fixtures, the certificate server, the TLS fronts, the cgroups,
/// and the functions' environment.
async fn setup() -> anyhow::Result<Run> {
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
    let certs = CertServer::dev_key(&bench::loopback_addr()?, 3600).await?;
    let stamp = format!("bench{}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs());
    let app_vars = bench::process::app_vars(&project, &stamp);
    let app = bench::process::app(&app_vars, certs.url()).await?;
    shared::seed::prepare_local(&app, &admin_email).await?;
    let minter = Minter::dev(&project)?;
    let functions = functions(&args)?;
    let (functions, fixtures, skipped) = drivable(functions, &args, &app, &minter, &admin_email).await?;
    app.verifier.verify(&fixtures.admin).await.context("the dev token does not verify in-process")?;
    eprintln!("bench: fixtures ready in {:.1}s", started.elapsed().as_secs_f64());

    let tls =
        (!args.no_tls).then(|| Fronts::new(&args.out_dir.join("tls"), Path::new(SYSTEM_CA_BUNDLE))).transpose()?;
    let front = |url: &str| match &tls {
        Some(fronts) => fronts.front(url),
        None => Ok(url.to_owned()),
    };
    let urls = Endpoints { certs: front(certs.url())?, dynamodb: front(&ddb_url)?, ssm: front(&ssm_url)? };
    let peer_vars = peer_vars(tls.as_ref());
    let (cgroups, no_cgroups) = match Cgroups::open() {
        Ok(cgroups) => (Some(cgroups), None),
        Err(why) => {
            eprintln!("bench: WARNING: {why}: CPU from schedstat, no CPU-share figures");
            (None, Some(why))
        }
    };
    let mut env = FunctionEnv::local(&app_vars, urls, args.out_dir.join("logs"), cgroups);
    if let Some(fronts) = &tls {
        env.vars.push((shared::auth::tls::EXTRA_CA_FILE.into(), fronts.ca_file.display().to_string()));
    }
    let peers = peers(&args, &functions)?;
    Ok(Run {
        args,
        app,
        fixtures,
        env,
        functions,
        peers,
        skipped,
        no_cgroups,
        ddb_url,
        ssm_url,
        peer_vars,
        started,
        _servers: (certs, tls),
    })
}

/// The functions to measure: every route, or those `BENCH_ONLY=name,…` names.
fn functions(args: &Args) -> anyhow::Result<Vec<Route>> {
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let functions: Vec<Route> =
        routes::ALL.into_iter().filter(|r| only.is_empty() || only.split(',').any(|n| n == r.name)).collect();
    for name in functions.iter().map(|r| r.name).chain([HELLO]) {
        let bin = args.bin_dir.join(name);
        if !bin.is_file() {
            bail!("{} is missing: build release first", bin.display());
        }
    }
    Ok(functions)
}

/// The functions the driver can drive, their fixtures, and the others with why not.
async fn drivable(
    mut functions: Vec<Route>,
    args: &Args,
    app: &App,
    minter: &Minter,
    admin_email: &str,
) -> anyhow::Result<(Vec<Route>, Fixtures, Vec<(&'static str, String)>)> {
    // One-use identities: every cold start of ours and the peer's, warm-up, each measured
    // request and its floor's replay (a replayed write takes new ones too), and the shares.
    let shares = 2 + args.memory.len();
    let pool = (2 * shares + 1) * args.spawns
        + 2 * args.warmup
        + 3 * args.warm
        + args.rie.as_ref().map_or(0, |_| args.rie_spawns)
        + args.memory.len() * (SHARE_WARMUP + args.share_warm)
        + 64;
    let fixtures = Fixtures::new(app, minter, admin_email, pool, &args.events).await?;
    let mut skipped = Vec::new();
    functions.retain(|route| match cannot_drive(route, &fixtures) {
        Some(reason) => {
            eprintln!("bench: SKIPPING {}: {reason}", route.name);
            skipped.push((route.name, reason));
            false
        }
        None => true,
    });
    Ok((functions, fixtures, skipped))
}

/// The peer's binaries of the functions measured.
fn peers(args: &Args, functions: &[Route]) -> anyhow::Result<Vec<(&'static str, PathBuf)>> {
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
    Ok(peers)
}

/// How the peer is told to trust the TLS fronts: the system bundle with the test CA as its
/// `SSL_CERT_FILE`; as written, the system's directory and one holding the test CA.
fn peer_vars(tls: Option<&Fronts>) -> HashMap<PeerRun, Vec<(&'static str, String)>> {
    let (cert_file, as_written) = match tls {
        Some(f) => (
            vec![("SSL_CERT_FILE", f.bundle_file.display().to_string())],
            vec![("SSL_CERT_DIR", format!("{SYSTEM_CA_DIR}:{}", f.ca_dir.display()))],
        ),
        None => (vec![("SSL_CERT_FILE", SYSTEM_CA_BUNDLE.to_owned())], vec![]),
    };
    HashMap::from([(PeerRun::CertFile, cert_file), (PeerRun::AsWritten, as_written)])
}

/// A duration's share of `n` (CPU per request).
fn per(total: Duration, n: usize) -> Duration {
    total / n.max(1) as u32
}
