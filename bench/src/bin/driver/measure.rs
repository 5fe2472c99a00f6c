//! The measurements, one phase each: sizes, cold starts at every CPU share, warm latency
//! and CPU (at a full core against the storage floor, and at each memory's share), the
//! peer warm, and SSM calls.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use aws_sdk_dynamodb::types::AttributeValue;
use bench::cpu::Share;
use bench::emulator::RuntimeApi;
use bench::process::{Cold, Process, cold_start, expect_success};
use bench::recorder::{Recorder, Script};
use bench::{apigw_event, median, ms, percentile};
use shared::App;
use shared::routes::{self, Route};

use crate::setup::{Sizes, is_stripped, sizes as size_of};
use crate::{HELLO, PeerRun, Run, SHARE_WARMUP, Who, per};

pub struct AllSizes {
    pub ours: HashMap<&'static str, Sizes>,
    pub peers: HashMap<&'static str, Sizes>,
    pub arm64_zip: HashMap<&'static str, u64>,
}

/// Binaries and zips of ours, bench-hello's and the peer's; the arm64 zips with `--arm64-dir`.
pub fn sizes(run: &Run) -> anyhow::Result<AllSizes> {
    let zip_dir = run.args.out_dir.join("zip");
    let mut ours = HashMap::new();
    for name in run.functions.iter().map(|r| r.name).chain([HELLO]) {
        ours.insert(name, size_of(&run.bin(name), &zip_dir, name)?);
    }
    let mut peers = HashMap::new();
    for (name, peer) in &run.peers {
        let file = peer.file_name().and_then(|n| n.to_str()).unwrap_or("peer");
        peers.insert(*name, size_of(peer, &zip_dir, file)?);
    }
    // The aarch64 builds, zipped the same way; a missing one is left out with a warning.
    let mut arm64_zip = HashMap::new();
    if let Some(dir) = &run.args.arm64_dir {
        let zip_dir = run.args.out_dir.join("zip-arm64");
        std::fs::create_dir_all(&zip_dir)?;
        for name in run.functions.iter().map(|r| r.name) {
            let bootstrap = dir.join(name).join("bootstrap");
            match size_of(&bootstrap, &zip_dir, name) {
                Ok(s) => {
                    arm64_zip.insert(name, s.zip);
                }
                Err(e) => eprintln!("bench: WARNING: no arm64 zip for {name} ({}): {e:#}", bootstrap.display()),
            }
        }
    }
    let unstripped: Vec<_> = run.functions.iter().map(|r| r.name).filter(|n| !is_stripped(&run.bin(n))).collect();
    if !unstripped.is_empty() {
        eprintln!("bench: WARNING: not stripped: {unstripped:?}");
    }
    Ok(AllSizes { ours, peers, arm64_zip })
}

fn hello_event() -> Vec<u8> {
    apigw_event("GET", "/hello", "/hello", None, None, &[], &[])
}

/// A fresh event for `name` (bench-hello's for it).
fn event_for(run: &Run, name: &str) -> anyhow::Result<Vec<u8>> {
    match run.functions.iter().find(|r| r.name == name) {
        Some(route) => run.fixtures.event(route),
        None => Ok(hello_event()),
    }
}

#[derive(Default)]
pub struct ColdRuns {
    pub runs: HashMap<(&'static str, Who, Share), Vec<Cold>>,
    /// The cold starts that failed, with why.
    pub failed: Vec<String>,
}

/// Cold starts: rounds through bench-hello and every function; in each, the function at
/// every share and, if it has one, its peer (as written at a full core, given the CA file at
/// every share), in an order that rotates from round to round, so background load falls on
/// all alike.
pub async fn cold_rounds(run: &Run) -> anyhow::Result<ColdRuns> {
    let shares = run.shares();
    let mut cold = ColdRuns::default();
    for round in 0..run.args.spawns {
        for name in [HELLO].into_iter().chain(run.functions.iter().map(|r| r.name)) {
            let mut variants: Vec<(Who, Share)> = shares.iter().map(|s| (Who::Ours, *s)).collect();
            let has_peer = run.peers.iter().any(|(ours, _)| *ours == name);
            if has_peer {
                variants.push((Who::Peer(PeerRun::AsWritten), Share::Full));
                variants.extend(shares.iter().map(|s| (Who::Peer(PeerRun::CertFile), *s)));
            }
            let n = variants.len();
            variants.rotate_left(round % n);
            let mut statuses = Vec::new();
            for (who, share) in variants.iter().copied() {
                let (binary, overrides) = run.program(name, who);
                // One failed start on a loaded machine (a stand-in's answer past a deadline)
                // is counted and printed, not the end of the run.
                match cold_start(&run.env, &binary, name, event_for(run, name)?, overrides, share).await {
                    Ok(took) => {
                        statuses.push(took.status);
                        cold.runs.entry((name, who, share)).or_default().push(took);
                    }
                    Err(e) => {
                        eprintln!("bench: WARNING: a cold start failed: {e:#}");
                        cold.failed.push(format!("{name} ({who:?}, {}): {e:#}", share.label()));
                    }
                }
            }
            if has_peer && statuses.iter().any(|s| *s != statuses[0]) {
                bail!(
                    "{name} and its peer answered differently ({statuses:?}, in the order {variants:?}): not the same work"
                );
            }
        }
        eprintln!("bench: cold-start round {}/{} done", round + 1, run.args.spawns);
    }
    Ok(cold)
}

/// BENCH_COMPARE: cold starts only, of the same functions from several builds, interleaved
/// spawn by spawn so background load falls on every build alike.
pub async fn compare(run: &Run, dirs: Vec<PathBuf>) -> anyhow::Result<()> {
    let names: Vec<&str> = [HELLO].into_iter().chain(run.functions.iter().map(|r| r.name)).collect();
    let mut cold: HashMap<(usize, &str), Vec<Duration>> = HashMap::new();
    for _ in 0..run.args.spawns {
        for name in &names {
            for (d, dir) in dirs.iter().enumerate() {
                // A fresh event per spawn: a write replayed on a second build would be a 409.
                let took = cold_start(&run.env, &dir.join(name), name, event_for(run, name)?, &[], Share::Full).await?;
                cold.entry((d, name)).or_default().push(took.wall);
            }
        }
    }
    let header: String = dirs.iter().map(|d| format!(" {} cold p50 ms |", d.display())).collect();
    println!("| function |{header}");
    for name in &names {
        let cells: String = (0..dirs.len()).map(|d| format!(" {:.1} |", ms(median(&cold[&(d, *name)])))).collect();
        println!("| {name} |{cells}");
    }
    Ok(())
}

/// Back-to-back invocations of one process: wall time of each (submit → answer), and the
/// process's CPU per invocation over the measured ones.
pub struct BackToBack {
    pub p50: Duration,
    pub p99: Duration,
    pub cpu: Option<Duration>,
}

async fn back_to_back(
    api: &RuntimeApi,
    process: &Process,
    name: &str,
    warmup: usize,
    measured: usize,
    mut event: impl FnMut() -> anyhow::Result<Vec<u8>>,
) -> anyhow::Result<BackToBack> {
    for _ in 0..warmup {
        expect_success(name, &api.invoke(event()?).await?)?;
    }
    let (cpu0, threads0) = (process.cpu(), process.threads_cpu());
    let mut samples = Vec::with_capacity(measured);
    for _ in 0..measured {
        let answer = api.submit(event()?);
        let t0 = Instant::now();
        let outcome = api.wait(answer).await?;
        samples.push(outcome.received_at - t0);
        expect_success(name, &outcome)?;
    }
    let cpu = process.cpu().zip(cpu0).map(|(end, start)| per(end.saturating_sub(start), measured));
    // The two counters should agree; a gap says the cgroup counts something else.
    let threads = process.threads_cpu().zip(threads0).map(|(end, start)| per(end.saturating_sub(start), measured));
    eprintln!("bench: {name} warm CPU per request: cgroup {cpu:?}, threads {threads:?}");
    Ok(BackToBack { p50: median(&samples), p99: percentile(&samples, 99.0), cpu })
}

/// bench-hello warm at a full core: its latency and CPU per request, the baseline.
pub async fn hello_warm(run: &Run) -> anyhow::Result<BackToBack> {
    let api = RuntimeApi::start().await?;
    let process = run.env.spawn(&run.bin(HELLO), HELLO, &api, &[], Share::Full).await?;
    let result = back_to_back(&api, &process, HELLO, 10, 100, || Ok(hello_event())).await;
    process.stop().await;
    result
}

/// The peer warm at a full core, given the CA file: its latency and CPU per request.
pub async fn peer_warm(run: &Run) -> anyhow::Result<HashMap<&'static str, BackToBack>> {
    let mut out = HashMap::new();
    for route in run.functions.iter().filter(|r| run.peers.iter().any(|(ours, _)| *ours == r.name)) {
        let (binary, overrides) = run.program(route.name, Who::Peer(PeerRun::CertFile));
        let api = RuntimeApi::start().await?;
        let process = run.env.spawn(&binary, route.name, &api, overrides, Share::Full).await?;
        let (warmup, warm) = (run.args.warmup, run.args.warm);
        let result = back_to_back(&api, &process, route.name, warmup, warm, || run.fixtures.event(route)).await;
        process.stop().await;
        out.insert(route.name, result?);
    }
    Ok(out)
}

/// Every function (and bench-hello) warm at each memory's share with the init boost,
/// invocations back to back. A function whose repeated request fails is left out, with why.
pub async fn warm_shares(run: &Run) -> anyhow::Result<SharesWarm> {
    let mut out = SharesWarm::default();
    if run.env.cgroups.is_none() {
        return Ok(out);
    }
    for name in [HELLO].into_iter().chain(run.functions.iter().map(|r| r.name)) {
        for mb in &run.args.memory {
            let api = RuntimeApi::start().await?;
            let process = run.env.spawn(&run.bin(name), name, &api, &[], Share::Boost(*mb)).await?;
            let measured = run.args.share_warm;
            let result = back_to_back(&api, &process, name, SHARE_WARMUP, measured, || event_for(run, name)).await;
            process.stop().await;
            match result {
                Ok(b) => {
                    out.runs.insert((name, *mb), b);
                }
                Err(e) => {
                    eprintln!("bench: no warm figures of {name} at {mb} MB: {e:#}");
                    out.failed.push((name, *mb, format!("{e:#}")));
                }
            }
        }
    }
    Ok(out)
}

#[derive(Default)]
pub struct SharesWarm {
    pub runs: HashMap<(&'static str, u32), BackToBack>,
    pub failed: Vec<(&'static str, u32, String)>,
}

pub struct Warm {
    pub p50: Duration,
    pub p99: Duration,
    pub floor_p50: Duration,
    pub floor_p99: Duration,
    pub script: String,
    /// Sequential storage steps of one warm request (concurrent calls count once).
    pub groups: usize,
    pub rss_after_100: u64,
    pub rss_end: u64,
    /// CPU per measured invocation.
    pub cpu: Option<Duration>,
}

#[derive(Default)]
pub struct WarmFull {
    pub warm: HashMap<&'static str, Warm>,
    pub not_warm: Vec<(&'static str, String)>,
    /// An SDK GetItem after every warm invocation, and the same bytes sent raw.
    pub anchor: Vec<Duration>,
    pub anchor_raw: Vec<Duration>,
    pub floor_as_recorded: bool,
}

/// What the floor of a warm request needs: the recorders, the raw client, the anchor.
struct Floor {
    ddb_rec: Recorder,
    ssm_rec: Recorder,
    raw_http: reqwest::Client,
    anchor_key: HashMap<String, AttributeValue>,
    anchor_script: Script,
    /// BENCH_FLOOR_AS_RECORDED=1: replay writes byte for byte (same ids and
    /// ClientRequestToken, so DynamoDB answers them as idempotent repeats).
    as_recorded: bool,
}

impl Floor {
    async fn new(run: &Run) -> anyhow::Result<Self> {
        // Held answers only shape the recorded timeline; the floor replays straight to the stand-in.
        let ddb_rec = Recorder::holding(&run.ddb_url, Duration::from_millis(25)).await?;
        let ssm_rec = Recorder::start(&run.ssm_url).await?;
        let raw_http = reqwest::Client::builder().pool_max_idle_per_host(8).build()?;
        let anchor_key =
            HashMap::from([("pk".to_owned(), AttributeValue::S(format!("CUSTOMER#{}", run.fixtures.client_customer)))]);
        // The same GetItem's bytes, recorded once, to split an SDK call into wire time and SDK time.
        let sdk = App::sdk_config(&run.app.config).await;
        let client = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&sdk).endpoint_url(ddb_rec.url()).build(),
        );
        ddb_rec.take();
        client.get_item().table_name(&run.app.tables.customers).set_key(Some(anchor_key.clone())).send().await?;
        let anchor_script = Script::from_calls(ddb_rec.take().into_iter().map(|c| (run.ddb_url.clone(), c)).collect());
        let as_recorded = std::env::var("BENCH_FLOOR_AS_RECORDED").is_ok_and(|v| v == "1");
        let floor = Self { ddb_rec, ssm_rec, raw_http, anchor_key, anchor_script, as_recorded };
        for _ in 0..50 {
            floor.get_item(&run.app).await?;
        }
        Ok(floor)
    }

    /// One SDK GetItem of the anchor item.
    async fn get_item(&self, app: &App) -> anyhow::Result<Duration> {
        let t = Instant::now();
        let out = app
            .dynamo
            .get_item()
            .table_name(&app.tables.customers)
            .set_key(Some(self.anchor_key.clone()))
            .send()
            .await?;
        if out.item.is_none() {
            bail!("anchor item missing");
        }
        Ok(t.elapsed())
    }

    /// The storage script of one warm request, recorded from a process of its own (the
    /// fourth request, after three warm-up ones).
    async fn record(&self, run: &Run, route: &Route) -> anyhow::Result<Script> {
        let api = RuntimeApi::start().await?;
        let endpoints =
            [("AWS_ENDPOINT_URL_DYNAMODB", self.ddb_rec.url()), ("AWS_ENDPOINT_URL_SSM", self.ssm_rec.url())];
        let process = run.env.spawn(&run.bin(route.name), route.name, &api, &endpoints, Share::Full).await?;
        let mut result = Ok(());
        let mut recorded = (Vec::new(), Vec::new());
        for i in 0..4 {
            if i == 3 {
                self.ddb_rec.take();
                self.ssm_rec.take();
            }
            let (event, one_use) = run.fixtures.event_and_one_use(route)?;
            recorded = (event.clone(), one_use);
            result = api.invoke(event).await.and_then(|outcome| expect_success(route.name, &outcome));
            if result.is_err() {
                break;
            }
        }
        process.stop().await;
        result?;
        let mut calls: Vec<_> = self.ddb_rec.take().into_iter().map(|c| (run.ddb_url.clone(), c)).collect();
        calls.extend(self.ssm_rec.take().into_iter().map(|c| (run.ssm_url.clone(), c)));
        let (event, one_use) = recorded;
        Ok(Script::from_calls(calls).fresh(&event, one_use))
    }

    /// The script once, made new for a new request: how long its raw calls take.
    async fn replay(&self, run: &Run, route: &Route, script: &Script) -> anyhow::Result<Duration> {
        // A new request's one-use values for the replayed writes (from the same pools).
        let one_use: Vec<(String, String)> = if script.needs_one_use() && !self.as_recorded {
            let (_, new) = run.fixtures.event_and_one_use(route)?;
            script.one_use_recorded().iter().cloned().zip(new).collect()
        } else {
            Vec::new()
        };
        script.replay(&self.raw_http, &one_use, self.as_recorded).await
    }
}

/// Warm latency through the event path at a full core, the raw floor of the same storage
/// work interleaved with it, CPU per request and RSS.
pub async fn warm_full(run: &Run) -> anyhow::Result<WarmFull> {
    let floor = Floor::new(run).await?;
    let mut out = WarmFull { floor_as_recorded: floor.as_recorded, ..WarmFull::default() };
    for route in &run.functions {
        let name = route.name;
        let script = floor.record(run, route).await?;
        // A write conditioned on what the request read (e.g. a mitra's phone as it was) cannot
        // be replayed once a request has changed it; such a function has no floor yet.
        if script.calls() > 0
            && !floor.as_recorded
            && let Err(e) = floor.replay(run, route, &script).await
        {
            let reason = format!("its storage calls cannot be replayed as a floor ({e:#})");
            eprintln!("bench: SKIPPING warm {name}: {reason}");
            out.not_warm.push((name, reason));
            continue;
        }
        match warm_one(run, route, &floor, &script, &mut out).await? {
            Ok(warm) => {
                eprintln!(
                    "bench: warm {name}: p50 {:.2} ms, floor {:.2} ms ({})",
                    ms(warm.p50),
                    ms(warm.floor_p50),
                    warm.script
                );
                out.warm.insert(name, warm);
            }
            Err(reason) => {
                eprintln!("bench: SKIPPING warm {name}: {reason}");
                out.not_warm.push((name, reason));
            }
        }
    }
    Ok(out)
}

/// One function warm: its measured invocations each followed by the anchor and the floor.
/// The inner error is a floor that stopped replaying part way (a write conditioned on state
/// the requests change).
async fn warm_one(
    run: &Run,
    route: &Route,
    floor: &Floor,
    script: &Script,
    out: &mut WarmFull,
) -> anyhow::Result<Result<Warm, String>> {
    let name = route.name;
    let api = RuntimeApi::start().await?;
    let process = run.env.spawn(&run.bin(name), name, &api, &[], Share::Full).await?;
    let mut rss_after_100 = 0;
    let (mut samples, mut floors) = (Vec::new(), Vec::new());
    let mut floor_failed = None;
    let result = async {
        for _ in 0..run.args.warmup {
            expect_success(name, &api.invoke(run.fixtures.event(route)?).await?)?;
        }
        let cpu0 = process.cpu();
        for i in 0..run.args.warm {
            let answer = api.submit(run.fixtures.event(route)?);
            let t0 = Instant::now();
            let outcome = api.wait(answer).await?;
            samples.push(outcome.received_at - t0);
            expect_success(name, &outcome)?;
            if run.args.warmup + i + 1 == 100 {
                rss_after_100 = process.peak_rss()?;
            }
            let raw = floor.get_item(&run.app).await?;
            out.anchor.push(raw);
            out.anchor_raw.push(floor.anchor_script.replay(&floor.raw_http, &[], true).await?);
            if script.calls() == 0 {
                floors.push(raw);
            } else {
                match floor.replay(run, route, script).await {
                    Ok(took) => floors.push(took),
                    Err(e) => {
                        floor_failed = Some(format!("its storage calls stopped replaying as a floor ({e:#})"));
                        break;
                    }
                }
            }
        }
        // Includes what the process does after answering, while the driver measures the floor.
        let cpu = process.cpu().zip(cpu0).map(|(end, start)| per(end.saturating_sub(start), samples.len()));
        anyhow::Ok(cpu)
    }
    .await;
    let rss_end = process.peak_rss().unwrap_or(0);
    process.stop().await;
    let cpu = result.with_context(|| format!("warm run of {name}"))?;
    if let Some(reason) = floor_failed {
        return Ok(Err(reason));
    }
    Ok(Ok(Warm {
        p50: median(&samples),
        p99: percentile(&samples, 99.0),
        floor_p50: median(&floors),
        floor_p99: percentile(&floors, 99.0),
        script: script.describe(),
        groups: script.groups.len(),
        rss_after_100: if rss_after_100 == 0 { rss_end } else { rss_after_100 },
        rss_end,
        cpu,
    }))
}

/// GetParameter calls while one process serves the anonymity GETs evenly over the window.
pub async fn ssm(run: &Run) -> anyhow::Result<usize> {
    let route = routes::PUBLIC_ANONYMITY_GET;
    let ssm_rec = Recorder::start(&run.ssm_url).await?;
    let api = RuntimeApi::start().await?;
    let endpoint = [("AWS_ENDPOINT_URL_SSM", ssm_rec.url())];
    let process = run.env.spawn(&run.bin(route.name), route.name, &api, &endpoint, Share::Full).await?;
    let gets = run.args.ssm_gets;
    let events: Vec<_> = (0..gets).map(|_| run.fixtures.event(&route)).collect::<Result<_, _>>()?;
    let t0 = Instant::now();
    let step = run.args.ssm_window / gets as u32;
    let mut result = Ok(());
    for (i, event) in events.into_iter().enumerate() {
        tokio::time::sleep_until((t0 + step * i as u32).into()).await;
        result = api.invoke(event).await.and_then(|o| expect_success(route.name, &o));
        if result.is_err() {
            break;
        }
    }
    let elapsed = t0.elapsed();
    process.stop().await;
    result?;
    let calls = ssm_rec.count("AmazonSSM.GetParameter");
    eprintln!("bench: ssm: {gets} GETs in {:.2}s, {calls} GetParameter calls", elapsed.as_secs_f64());
    Ok(calls)
}

/// Cold starts under AWS's RIE (`--rie`) of bench-hello and every function, at a full core.
pub async fn rie_cold(run: &Run) -> anyhow::Result<HashMap<&'static str, Vec<bench::rie::RieCold>>> {
    let mut runs: HashMap<&'static str, Vec<bench::rie::RieCold>> = HashMap::new();
    let Some(rie) = &run.args.rie else { return Ok(runs) };
    for _ in 0..run.args.rie_spawns {
        for name in [HELLO].into_iter().chain(run.functions.iter().map(|r| r.name)) {
            // The RIE binds its ports itself, after the driver found them free: another
            // process can take one in between, so a start that fails is tried again once.
            let mut took = bench::rie::cold_start(rie, &run.env, &run.bin(name), name, event_for(run, name)?).await;
            if took.is_err() {
                took = bench::rie::cold_start(rie, &run.env, &run.bin(name), name, event_for(run, name)?).await;
            }
            match took {
                Ok(took) => runs.entry(name).or_default().push(took),
                Err(e) => eprintln!("bench: WARNING: a cold start under the RIE failed: {e:#}"),
            }
        }
    }
    Ok(runs)
}
