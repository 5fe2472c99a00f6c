//! The tables and the last line.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Duration;

use bench::cpu::{FULL_VCPU_MB, Share};
use bench::process::Cold;
use bench::{median, ms, percentile};

use crate::measure::{AllSizes, BackToBack, ColdRuns, SharesWarm, Warm, WarmFull};
use crate::setup::criterion_median_us;
use crate::{HELLO, MB, PeerRun, Run, Who};

/// Lambda's arm64 price (us-east-1): per GB-second of duration, and per request.
const ARM64_GB_SECOND: f64 = 0.000_013_333_4;
const PER_REQUEST: f64 = 0.000_000_2;

pub struct Results {
    pub sizes: AllSizes,
    pub cold: ColdRuns,
    pub hello: BackToBack,
    pub warm: WarmFull,
    pub shares: SharesWarm,
    pub peer_warm: HashMap<&'static str, BackToBack>,
    pub rie: HashMap<&'static str, Vec<bench::rie::RieCold>>,
    pub ssm_calls: usize,
}

/// The figures of the main table that the notes and the last line also give.
struct Figures {
    cold_ratio: f64,
    warm_ratio: f64,
    max_zip: u64,
    max_rss: u64,
    cold_extra: f64,
    max_sequential: usize,
    peer_ratio: Option<f64>,
    peer_ratio_as_written: Option<f64>,
    sdk_per_call: Duration,
    anchor_p50: Duration,
    anchor_raw_p50: Duration,
}

/// The median of one measure of the cold starts of `name` run as `who` at `share`.
fn cold_p50(
    cold: &ColdRuns,
    name: &str,
    who: Who,
    share: Share,
    of: impl Fn(&Cold) -> Option<Duration>,
) -> Option<Duration> {
    let runs = cold.runs.iter().find(|((n, w, s), _)| *n == name && *w == who && *s == share).map(|(_, v)| v)?;
    let values: Vec<Duration> = runs.iter().filter_map(of).collect();
    (!values.is_empty()).then(|| median(&values))
}

fn wall_p50(cold: &ColdRuns, name: &str, who: Who, share: Share) -> Duration {
    cold_p50(cold, name, who, share, |c| Some(c.wall)).unwrap_or_default()
}

fn max(acc: Option<f64>, v: f64) -> Option<f64> {
    Some(acc.map_or(v, |a| a.max(v)))
}

fn fmt_opt(v: Option<f64>, decimals: usize) -> String {
    v.map(|v| format!("{v:.decimals$}")).unwrap_or_else(|| "n/a".into())
}

/// Prints the tables and the last line, and writes them to `table.md`.
pub fn write(run: &Run, r: &Results) -> anyhow::Result<()> {
    let (table, figures) = main_table(run, r)?;
    let notes = notes(run, r, &figures)?;
    let (cpu_table, cpu_figures) = cpu_table(run, r)?;
    let power = power_table(run, r)?;
    let rie = rie_table(run, r)?;
    let summary = summary(run, r, &figures, &cpu_figures)?;
    let text = format!("{table}\n{cpu_table}\n{power}\n{rie}{notes}\n{summary}\n");
    std::fs::write(run.args.out_dir.join("table.md"), &text)?;
    print!("{text}");
    Ok(())
}

/// The main table: cold and warm wall times at a full core, the floors, sizes and memory.
fn main_table(run: &Run, r: &Results) -> anyhow::Result<(String, Figures)> {
    // The table.
    let hello_cold = wall_p50(&r.cold, HELLO, Who::Ours, Share::Full);
    let anchor_p50 = median(&r.warm.anchor);
    let anchor_p99 = percentile(&r.warm.anchor, 99.0);
    let anchor_raw_p50 = median(&r.warm.anchor_raw);
    // What the SDK adds to one call over the same bytes sent raw (signing, serialisation, retries, parsing).
    let sdk_per_call = anchor_p50.saturating_sub(anchor_raw_p50);
    let sdk_floor = |w: &Warm| {
        if w.groups == 0 { anchor_p50 } else { w.floor_p50 + sdk_per_call * w.groups as u32 }
    };
    let arm64 = run.args.arm64_dir.is_some();
    // The last column, present only with --arm64-dir.
    let arm64_cell = |name: &str| match (arm64, r.sizes.arm64_zip.get(name)) {
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
    let hello_init = hello_cold.saturating_sub(r.hello.p50);
    let mut cold_ratio: f64 = 0.0;
    let mut warm_ratio: f64 = 0.0;
    let mut max_zip: u64 = 0;
    let mut max_rss: u64 = 0;
    let mut cold_extra: f64 = f64::MIN;
    let mut max_sequential = 0;
    let mut peer_ratio: Option<f64> = None;
    let mut peer_ratio_as_written: Option<f64> = None;
    let peer_p50 = |name: &'static str, peer: PeerRun| {
        r.cold
            .runs
            .get(&(name, Who::Peer(peer), Share::Full))
            .map(|v| median(&v.iter().map(|c| c.wall).collect::<Vec<_>>()))
    };
    for route in &run.functions {
        let name = route.name;
        let c = wall_p50(&r.cold, name, Who::Ours, Share::Full);
        let s = &r.sizes.ours[name];
        let Some(w) = r.warm.warm.get(name) else {
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
    let h = &r.sizes.ours[HELLO];
    writeln!(
        table,
        "| {HELLO} (baseline) | {:.1} | 1.00 | 0.0 | | | | {:.1} | 1.00 | {:.2} | | | | | | | | | | {:.2} | {:.2} |{blank_tail}",
        ms(hello_cold),
        ms(hello_init),
        ms(r.hello.p50),
        h.binary as f64 / MB,
        h.zip as f64 / MB
    )?;
    for (ours, peer) in &run.peers {
        let s = &r.sizes.peers[ours];
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
    Ok((
        table,
        Figures {
            cold_ratio,
            warm_ratio,
            max_zip,
            max_rss,
            cold_extra,
            max_sequential,
            peer_ratio,
            peer_ratio_as_written,
            sdk_per_call,
            anchor_p50,
            anchor_raw_p50,
        },
    ))
}

/// What the main table measured and how, and what it left out.
fn notes(run: &Run, r: &Results, f: &Figures) -> anyhow::Result<String> {
    let (sdk_per_call, anchor_p50, anchor_raw_p50) = (f.sdk_per_call, f.anchor_p50, f.anchor_raw_p50);
    let fmt_us = |v: Option<f64>| fmt_opt(v, 2);
    let verify_fresh = criterion_median_us(&run.args.criterion_dir, "verify/fresh_token");
    let verify_repeat = criterion_median_us(&run.args.criterion_dir, "verify/repeated_token");
    let mut notes = String::new();
    writeln!(
        notes,
        "cold: median of {} spawns each; warm: {} invocations after {} warm-up, interleaved with the floors",
        run.args.spawns, run.args.warm, run.args.warmup
    )?;
    writeln!(
        notes,
        "floor: the endpoint's recorded storage calls replayed as raw HTTP (concurrent ones together), plus {:.2} ms of SDK time per sequential step (SDK GetItem p50 {:.2} ms − the same bytes raw {:.2} ms); an endpoint with no storage call is held to one SDK GetItem; {}",
        ms(sdk_per_call),
        ms(anchor_p50),
        ms(anchor_raw_p50),
        if r.warm.floor_as_recorded {
            "writes replayed byte for byte (BENCH_FLOOR_AS_RECORDED=1: idempotent repeats)"
        } else {
            "writes replayed with new generated ids, ClientRequestTokens and one-use values each time"
        }
    )?;
    for failed in &r.cold.failed {
        writeln!(notes, "cold start failed (left out of the medians): {failed}")?;
    }
    for (name, reason) in &run.skipped {
        writeln!(notes, "not measured: {name}: {reason}")?;
    }
    for (name, reason) in &r.warm.not_warm {
        writeln!(notes, "not measured warm: {name}: {reason}")?;
    }
    if !run.peers.is_empty() {
        writeln!(
            notes,
            "peer: bench/peer, the same first request written as aws-lambda-rust-runtime's examples write it; spawned right after or before ours in every round, as written and with SSL_CERT_FILE (the system bundle, and under TLS the test CA: as ours set it)"
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
        "ssm: {} GetParameter calls for {} anonymity GETs over {:.0} s (one process)",
        r.ssm_calls,
        run.args.ssm_gets,
        run.args.ssm_window.as_secs_f64()
    )?;
    let rss_end = r.warm.warm.values().map(|w| w.rss_end).max().unwrap_or(0);
    writeln!(
        notes,
        "peak RSS after all {} invocations of a process: max {:.1} MB",
        run.args.warmup + run.args.warm,
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
    writeln!(notes, "MB = 10^6 bytes; driver wall time {:.0} s{total}", run.started.elapsed().as_secs_f64())?;
    writeln!(
        notes,
        "cpu: {}; cold CPU is exec through the first answer (median), warm CPU the process's over the measured invocations / their number (what it does after answering included)",
        match &run.no_cgroups {
            None => "cgroup v1 cpuacct.usage of a cgroup per process, joined before exec",
            Some(_) => "the process's live threads' schedstat run time (cgroups not writable)",
        }
    )?;
    match &run.no_cgroups {
        Some(why) => writeln!(notes, "shares: none measured: {why}")?,
        None => writeln!(
            notes,
            "shares: a memory's share of one CPU (MB / 1769) as a CFS quota in 20 ms periods; with the init boost the quota is set when the process first asks for an event (init at a full core), without it from exec on; warm: {} back-to-back invocations after {} warm-up",
            run.args.share_warm,
            crate::SHARE_WARMUP
        )?,
    }
    for (name, mb, why) in &r.shares.failed {
        writeln!(notes, "no warm figures at {mb} MB: {name}: {why}")?;
    }
    writeln!(
        notes,
        "{}; $ per million: arm64 us-east-1, $0.20 per million requests + $0.0000133334 per GB-s of the warm p50 rounded up to 1 ms",
        if run.args.no_tls {
            "plain HTTP to the stand-ins (--no-tls)"
        } else {
            "TLS: DynamoDB Local, moto and the certificate server behind HTTPS fronts whose CA ours trust as EXTRA_CA_FILE (the peer: SSL_CERT_FILE, as written SSL_CERT_DIR); the recorded floors replay plain HTTP"
        }
    )?;
    Ok(notes)
}

/// The last line.
fn summary(run: &Run, r: &Results, f: &Figures, c: &CpuFigures) -> anyhow::Result<String> {
    let mut summary = format!(
        "bench: cold_ratio={:.2} warm_overhead_ratio={:.2} verify_fresh_us={} verify_repeat_us={} ssm_calls={} max_zip_mb={:.2} max_rss_mb={:.1} peer_cold_ratio={} peer_cold_ratio_as_written={} cold_extra_ms={:.1} max_sequential_calls={}",
        f.cold_ratio,
        f.warm_ratio,
        fmt_opt(criterion_median_us(&run.args.criterion_dir, "verify/fresh_token"), 2),
        fmt_opt(criterion_median_us(&run.args.criterion_dir, "verify/repeated_token"), 2),
        r.ssm_calls,
        f.max_zip as f64 / MB,
        f.max_rss as f64 / MB,
        fmt_opt(f.peer_ratio, 2),
        fmt_opt(f.peer_ratio_as_written, 2),
        f.cold_extra,
        f.max_sequential,
    );
    write!(
        summary,
        " cold_cpu_ms={} warm_cpu_us={} peer_cold_cpu_ratio={} peer_warm_cpu_ratio={} cold_p50_ms_128={} peer_cold_ratio_128={} warm_p50_ms_256={}",
        fmt_opt(c.cold_cpu_ms, 2),
        fmt_opt(c.warm_cpu_us, 0),
        fmt_opt(c.peer_cold_cpu_ratio, 2),
        fmt_opt(c.peer_warm_cpu_ratio, 2),
        fmt_opt(c.cold_p50_ms_128, 1),
        fmt_opt(c.peer_cold_ratio_128, 2),
        fmt_opt(c.warm_p50_ms_256, 2),
    )?;
    if let Some(max_arm64) = r.sizes.arm64_zip.values().max() {
        write!(summary, " max_arm64_zip_mb={:.2}", *max_arm64 as f64 / MB)?;
    }
    Ok(summary)
}

/// The largest CPU and CPU-share figures, for the last line.
#[derive(Default)]
struct CpuFigures {
    cold_cpu_ms: Option<f64>,
    warm_cpu_us: Option<f64>,
    peer_cold_cpu_ratio: Option<f64>,
    peer_warm_cpu_ratio: Option<f64>,
    cold_p50_ms_128: Option<f64>,
    peer_cold_ratio_128: Option<f64>,
    warm_p50_ms_256: Option<f64>,
}

/// $ per million requests at `mb`, each billed its warm p50 rounded up to the millisecond.
fn dollars_per_million(mb: u32, warm_p50: Duration) -> f64 {
    let billed_s = ms(warm_p50).ceil() / 1000.0;
    1e6 * (PER_REQUEST + ARM64_GB_SECOND * f64::from(mb) / 1024.0 * billed_s)
}

/// CPU per cold start and per warm request, and wall times at each memory's CPU share.
fn cpu_table(run: &Run, r: &Results) -> anyhow::Result<(String, CpuFigures)> {
    let memories = &run.args.memory;
    let no_boost = Share::NoBoost(run.args.no_boost_memory);
    let mut header = String::from(
        "| function | cold CPU ms | warm CPU µs per request | init ms (spawn → first poll) | cold p50 ms, full core |",
    );
    for mb in memories {
        write!(header, " cold p50 ms, {mb} MB |")?;
    }
    write!(header, " cold p50 ms, {} |", no_boost.label())?;
    for mb in memories {
        write!(header, " warm p50 / p99 ms, {mb} MB |")?;
    }
    for mb in memories {
        write!(header, " $ per million, {mb} MB |")?;
    }
    let columns = header.matches('|').count() - 1;
    let mut table = format!("{header}\n|{}\n", "---|".repeat(columns));
    let mut figures = CpuFigures::default();
    let rows = run.functions.iter().map(|r| (r.name, Who::Ours)).chain([(HELLO, Who::Ours)]);
    let peers = run.peers.iter().map(|(name, _)| (*name, Who::Peer(PeerRun::CertFile)));
    for (name, who) in rows.chain(peers) {
        let cpu_ms = cold_p50(&r.cold, name, who, Share::Full, |c| c.cpu).map(ms);
        let init_ms = cold_p50(&r.cold, name, who, Share::Full, |c| c.init).map(ms);
        let warm_cpu = match who {
            Who::Ours if name == HELLO => r.hello.cpu,
            Who::Ours => r.warm.warm.get(name).and_then(|w| w.cpu),
            Who::Peer(_) => r.peer_warm.get(name).and_then(|b| b.cpu),
        };
        let warm_us = warm_cpu.map(|d| d.as_secs_f64() * 1e6);
        let wall = |share: Share| cold_p50(&r.cold, name, who, share, |c| Some(c.wall)).map(ms);
        let label = match who {
            Who::Ours => name.to_owned(),
            Who::Peer(_) => format!("peer of {name} (given the CA file)"),
        };
        write!(
            table,
            "| {label} | {} | {} | {} | {} |",
            fmt_opt(cpu_ms, 2),
            fmt_opt(warm_us, 0),
            fmt_opt(init_ms, 1),
            fmt_opt(wall(Share::Full), 1)
        )?;
        for mb in memories {
            write!(table, " {} |", fmt_opt(wall(Share::Boost(*mb)), 1))?;
        }
        write!(table, " {} |", fmt_opt(wall(no_boost), 1))?;
        let shares: Vec<Option<&BackToBack>> =
            memories.iter().map(|mb| if who == Who::Ours { r.shares.runs.get(&(name, *mb)) } else { None }).collect();
        for b in &shares {
            let cell = b.map(|b| format!("{:.2} / {:.2}", ms(b.p50), ms(b.p99))).unwrap_or_default();
            write!(table, " {cell} |")?;
        }
        for (mb, b) in memories.iter().zip(&shares) {
            let cell = b.map(|b| format!("{:.3}", dollars_per_million(*mb, b.p50))).unwrap_or_default();
            write!(table, " {cell} |")?;
        }
        table.push('\n');
        if name == HELLO {
            continue;
        }
        match who {
            Who::Ours => {
                if let Some(v) = cpu_ms {
                    figures.cold_cpu_ms = max(figures.cold_cpu_ms, v);
                }
                if let Some(v) = warm_us {
                    figures.warm_cpu_us = max(figures.warm_cpu_us, v);
                }
                if let Some(v) = wall(Share::Boost(128)) {
                    figures.cold_p50_ms_128 = max(figures.cold_p50_ms_128, v);
                }
                if let Some(b) = r.shares.runs.get(&(name, 256)) {
                    figures.warm_p50_ms_256 = max(figures.warm_p50_ms_256, ms(b.p50));
                }
            }
            Who::Peer(_) => peer_ratios(r, name, cpu_ms, warm_us, wall(Share::Boost(128)), &mut figures),
        }
    }
    Ok((table, figures))
}

/// Ours over the peer's, for the function `name` whose peer's figures are given.
fn peer_ratios(
    r: &Results,
    name: &str,
    peer_cpu_ms: Option<f64>,
    peer_warm_us: Option<f64>,
    peer_128: Option<f64>,
    figures: &mut CpuFigures,
) {
    let ours_cpu = cold_p50(&r.cold, name, Who::Ours, Share::Full, |c| c.cpu).map(ms);
    let ours_warm = r.warm.warm.get(name).and_then(|w| w.cpu).map(|d| d.as_secs_f64() * 1e6);
    let ours_128 = cold_p50(&r.cold, name, Who::Ours, Share::Boost(128), |c| Some(c.wall)).map(ms);
    let ratio = |a: Option<f64>, b: Option<f64>| a.zip(b).filter(|(_, b)| *b > 0.0).map(|(a, b)| a / b);
    if let Some(v) = ratio(ours_cpu, peer_cpu_ms) {
        figures.peer_cold_cpu_ratio = max(figures.peer_cold_cpu_ratio, v);
    }
    if let Some(v) = ratio(ours_warm, peer_warm_us) {
        figures.peer_warm_cpu_ratio = max(figures.peer_warm_cpu_ratio, v);
    }
    if let Some(v) = ratio(ours_128, peer_128) {
        figures.peer_cold_ratio_128 = max(figures.peer_cold_ratio_128, v);
    }
}

/// Memory → cold p50, warm p50 and p99, $ per million requests, over our functions (the
/// median function's and the largest).
fn power_table(run: &Run, r: &Results) -> anyhow::Result<String> {
    let mut table = String::from(
        "| memory MB | CPU share | cold p50 ms (median function / largest) | warm p50 ms (median / largest) | warm p99 ms (median / largest) | $ per million requests (median / largest) |\n|---|---|---|---|---|---|\n",
    );
    if let Some(why) = &run.no_cgroups {
        writeln!(table, "| | | {why}: no CPU-share figures | | | |")?;
        return Ok(table);
    }
    let spread = |mut v: Vec<f64>, decimals: usize| -> String {
        v.sort_by(f64::total_cmp);
        match (v.get(v.len().saturating_sub(1) / 2), v.last()) {
            (Some(mid), Some(top)) => format!("{mid:.decimals$} / {top:.decimals$}"),
            _ => "n/a".into(),
        }
    };
    for mb in &run.args.memory {
        let cold: Vec<f64> = run
            .functions
            .iter()
            .filter_map(|f| cold_p50(&r.cold, f.name, Who::Ours, Share::Boost(*mb), |c| Some(c.wall)).map(ms))
            .collect();
        let warm: Vec<&BackToBack> = run.functions.iter().filter_map(|f| r.shares.runs.get(&(f.name, *mb))).collect();
        writeln!(
            table,
            "| {mb} | {:.1} % | {} | {} | {} | {} |",
            100.0 * f64::from(*mb) / f64::from(FULL_VCPU_MB),
            spread(cold, 1),
            spread(warm.iter().map(|b| ms(b.p50)).collect(), 2),
            spread(warm.iter().map(|b| ms(b.p99)).collect(), 2),
            spread(warm.iter().map(|b| dollars_per_million(*mb, b.p50)).collect(), 3),
        )?;
    }
    Ok(table)
}

/// Cold starts under AWS's RIE beside the bench's own, at a full core (none without `--rie`).
fn rie_table(run: &Run, r: &Results) -> anyhow::Result<String> {
    if r.rie.is_empty() {
        return Ok(String::new());
    }
    let mut table = String::from(
        "| function | ours: cold p50 ms | ours: init p50 ms (spawn → first poll) | RIE: INIT REPORT durationMs p50 | RIE: REPORT Init Duration p50 ms | RIE: REPORT Duration p50 ms (init included) | RIE: POST → answer p50 ms |\n|---|---|---|---|---|---|---|\n",
    );
    let p50 = |runs: &[bench::rie::RieCold], of: &dyn Fn(&bench::rie::RieCold) -> Option<Duration>| {
        let v: Vec<Duration> = runs.iter().filter_map(of).collect();
        (!v.is_empty()).then(|| ms(median(&v)))
    };
    for name in [HELLO].into_iter().chain(run.functions.iter().map(|f| f.name)) {
        let Some(runs) = r.rie.get(name) else { continue };
        writeln!(
            table,
            "| {name} | {:.1} | {} | {} | {} | {} | {} |",
            ms(wall_p50(&r.cold, name, Who::Ours, Share::Full)),
            fmt_opt(cold_p50(&r.cold, name, Who::Ours, Share::Full, |c| c.init).map(ms), 1),
            fmt_opt(p50(runs, &|c| c.init), 1),
            fmt_opt(p50(runs, &|c| c.init_duration), 2),
            fmt_opt(p50(runs, &|c| c.duration), 1),
            fmt_opt(p50(runs, &|c| Some(c.wall)), 1),
        )?;
    }
    writeln!(
        table,
        "\nRIE: aws-lambda-rie from the aws-sam-cli wheel, {} cold starts per function, the same environment and TLS fronts as ours\n",
        run.args.rie_spawns
    )?;
    Ok(table)
}
