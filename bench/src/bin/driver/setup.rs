//! What the measurements stand on: sizes, criterion's figures, the stand-ins' warm-up and
//! cleanup, and the SDK probe.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use aws_sdk_dynamodb::types::AttributeValue;
use bench::recorder::{Recorder, Script};
use bench::{median, ms};
use futures::StreamExt;
use serde_json::Value;
use shared::App;
use shared::domain::CustomerDisplayName;

pub struct Sizes {
    pub binary: u64,
    pub zip: u64,
}

pub fn sizes(bin: &Path, zip_dir: &Path, name: &str) -> anyhow::Result<Sizes> {
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

pub fn is_stripped(bin: &Path) -> bool {
    // An ELF with symbols has a `.symtab` section name in its string table.
    std::fs::read(bin).map(|bytes| !bytes.windows(8).any(|w| w == b".symtab\0")).unwrap_or(false)
}

/// Criterion's median estimate for one benchmark, in µs.
pub fn criterion_median_us(dir: &Path, id: &str) -> Option<f64> {
    let text = std::fs::read_to_string(dir.join(id).join("new/estimates.json")).ok()?;
    let value: Value = serde_json::from_str(&text).ok()?;
    value["median"]["point_estimate"].as_f64().map(|ns| ns / 1000.0)
}

/// Drops this run's tables (DynamoDB Local keeps them in memory otherwise).
pub async fn cleanup(app: &App) -> anyhow::Result<()> {
    let t = &app.tables;
    for table in [&t.customers, &t.mitras, &t.control_center_users, &t.roles] {
        app.dynamo.delete_table().table_name(table).send().await?;
    }
    let _ = app.ssm.delete_parameter().name(&app.config.anonymity_parameter).send().await;
    Ok(())
}

/// BENCH_PROBE=1: customer creation through the SDK (our store code, in-process) against
/// the same request bytes sent raw: how much of a warm write is SDK time.
pub async fn probe(app: &App, ddb_url: &str) -> anyhow::Result<()> {
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
pub async fn warm_up_dynamodb_local(app: &App) {
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
