//! A bounded load run against a running local gateway: mixed public and internal
//! traffic from concurrent clients, then an audit that nothing was lost or duplicated.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::devtoken::{Minter, Persona};

pub struct LoadPlan {
    pub public_url: String,
    pub internal_url: String,
    pub admin_email: String,
    pub project_id: String,
    pub clients: usize,
    pub duration: Duration,
}

#[derive(Default)]
struct Tally {
    by_status: HashMap<u16, u64>,
    latencies_ms: Vec<f64>,
    customers: Vec<(String, String)>,
    mitras: Vec<(String, String)>,
    mitra_attempts: HashMap<String, u64>,
}

pub async fn run(plan: LoadPlan) -> anyhow::Result<()> {
    let minter = Minter::dev(&plan.project_id)?;
    let http = reqwest::Client::builder().pool_max_idle_per_host(plan.clients).build()?;
    let admin = sign_in_admin(&minter, &http, &plan.internal_url, &plan.admin_email).await?;
    let tally = Mutex::new(Tally::default());
    let started = Instant::now();
    let deadline = started + plan.duration;
    let workers = (0..plan.clients).map(|worker| client_loop(worker, &plan, &minter, &http, &admin, &tally, deadline));
    futures::future::try_join_all(workers).await?;
    let elapsed = started.elapsed();
    let tally = tally.into_inner().unwrap_or_else(|e| e.into_inner());
    audit(&plan, &minter, &http, &admin, tally, elapsed).await
}

/// A token of the seeded super admin, whose first login is bound.
pub(crate) async fn sign_in_admin(
    minter: &Minter,
    http: &reqwest::Client,
    internal_url: &str,
    email: &str,
) -> anyhow::Result<String> {
    let admin = minter.token(&Persona::ControlCenter {
        uid: format!("load-admin-{}", uuid::Uuid::new_v4()),
        email: email.to_owned(),
        email_verified: true,
    });
    let bound = call(http, "POST", &format!("{internal_url}/internal/auth/verify"), &admin, None).await?;
    if bound.0 != 200 {
        bail!("the super admin could not sign in ({}): is the seed's SUPER_ADMIN_EMAIL {email}?", bound.0);
    }
    Ok(admin)
}

async fn client_loop(
    worker: usize,
    plan: &LoadPlan,
    minter: &Minter,
    http: &reqwest::Client,
    admin: &str,
    tally: &Mutex<Tally>,
    deadline: Instant,
) -> anyhow::Result<()> {
    // One app instance per worker polls the flag with the same login all run long.
    let poller = minter.token(&Persona::Anonymous { uid: format!("poll-{worker}") });
    let mut i = 0u64;
    while Instant::now() < deadline {
        i += 1;
        let started = Instant::now();
        let (status, created) = match (worker as u64 + i) % 5 {
            0 | 1 => {
                let uid = format!("load-{worker}-{i}-{}", uuid::Uuid::new_v4().simple());
                let token = minter.token(&Persona::Anonymous { uid: uid.clone() });
                let url = format!("{}/api/shared/customer/anonymous", plan.public_url);
                let (status, body) =
                    call(http, "POST", &url, &token, Some(json!({ "display_name": format!("Load {i}") }))).await?;
                (
                    status,
                    (status == 201)
                        .then(|| ("customer", uid, body["data"]["id"].as_str().unwrap_or_default().to_owned())),
                )
            }
            2 => (
                call(http, "GET", &format!("{}/api/shared/config/anonymity", plan.public_url), &poller, None).await?.0,
                None,
            ),
            3 => {
                // Few distinct phones, so concurrent clients race to create the same mitra.
                let phone = format!("+62812000{:05}", i % 400);
                tally
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .mitra_attempts
                    .entry(phone.clone())
                    .and_modify(|n| *n += 1)
                    .or_insert(1);
                let url = format!("{}/internal/mitras", plan.internal_url);
                let (status, body) =
                    call(http, "POST", &url, admin, Some(json!({ "phone": phone, "display_name": "Load" }))).await?;
                (
                    status,
                    (status == 201)
                        .then(|| ("mitra", phone, body["data"]["id"].as_str().unwrap_or_default().to_owned())),
                )
            }
            _ => {
                let url = format!("{}/internal/mitras?page={}&limit=20", plan.internal_url, 1 + i % 3);
                (call(http, "GET", &url, admin, None).await?.0, None)
            }
        };
        let mut t = tally.lock().unwrap_or_else(|e| e.into_inner());
        *t.by_status.entry(status).or_default() += 1;
        t.latencies_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        match created {
            Some(("customer", uid, id)) => t.customers.push((uid, id)),
            Some((_, phone, id)) => t.mitras.push((phone, id)),
            None => {}
        }
    }
    Ok(())
}

/// What the API answered: the status, whether it said when to retry, and the JSON body.
pub(crate) struct Answer {
    pub status: u16,
    pub retry_after: bool,
    pub body: Value,
}

pub(crate) async fn call(
    http: &reqwest::Client,
    method: &str,
    url: &str,
    token: &str,
    body: Option<Value>,
) -> anyhow::Result<(u16, Value)> {
    let answer = answer(http, method, url, token, body).await?;
    Ok((answer.status, answer.body))
}

pub(crate) async fn answer(
    http: &reqwest::Client,
    method: &str,
    url: &str,
    token: &str,
    body: Option<Value>,
) -> anyhow::Result<Answer> {
    let mut request = http.request(method.parse()?, url).bearer_auth(token);
    if let Some(body) = body {
        request = request.header("content-type", "application/json").body(body.to_string());
    }
    let response = request.send().await.with_context(|| format!("{method} {url}"))?;
    let status = response.status().as_u16();
    let retry_after = response.headers().contains_key("retry-after");
    Ok(Answer { status, retry_after, body: response.json().await.unwrap_or(Value::Null) })
}

async fn audit(
    plan: &LoadPlan,
    minter: &Minter,
    http: &reqwest::Client,
    admin: &str,
    tally: Tally,
    elapsed: Duration,
) -> anyhow::Result<()> {
    let requests: u64 = tally.by_status.values().sum();
    let server_errors: u64 = tally.by_status.iter().filter(|(s, _)| **s >= 500).map(|(_, n)| n).sum();
    let mut latencies = tally.latencies_ms.clone();
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies.get(((latencies.len() as f64 - 1.0) * p) as usize).copied().unwrap_or(0.0);

    let mut customers_missing = 0;
    for (uid, id) in &tally.customers {
        let token = minter.token(&Persona::Anonymous { uid: uid.clone() });
        let (status, body) =
            call(http, "POST", &format!("{}/api/client/auth/verify", plan.public_url), &token, None).await?;
        if status != 200 || body["data"]["id"].as_str() != Some(id.as_str()) {
            customers_missing += 1;
        }
    }
    let mut listed: Vec<(String, String)> = Vec::new();
    let mut total = 0;
    for page in 1.. {
        let (_, body) =
            call(http, "GET", &format!("{}/internal/mitras?page={page}&limit=100", plan.internal_url), admin, None)
                .await?;
        total = body["data"]["total"].as_u64().unwrap_or(0);
        let items = body["data"]["items"].as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            break;
        }
        listed.extend(items.iter().map(|m| {
            (m["phone"].as_str().unwrap_or_default().to_owned(), m["id"].as_str().unwrap_or_default().to_owned())
        }));
    }
    let listed_ids: HashSet<&str> = listed.iter().map(|(_, id)| id.as_str()).collect();
    let mitras_missing = tally.mitras.iter().filter(|(_, id)| !listed_ids.contains(id.as_str())).count();
    let distinct_phones: HashSet<&str> = listed.iter().map(|(p, _)| p.as_str()).collect();
    let duplicate_mitras = listed.len() - distinct_phones.len();
    let mut statuses: Vec<_> = tally.by_status.iter().collect();
    statuses.sort();

    println!("load: {} clients for {:.1} s", plan.clients, elapsed.as_secs_f64());
    println!(
        "load: {requests} requests ({:.0}/s), latency p50 {:.1} ms, p99 {:.1} ms",
        requests as f64 / elapsed.as_secs_f64(),
        pct(0.5),
        pct(0.99)
    );
    println!("load: statuses {statuses:?}");
    println!("load: customers created {} (missing afterwards: {customers_missing})", tally.customers.len());
    println!(
        "load: mitras created {} from {} create attempts on {} phones; listed {} (total {total}); missing {mitras_missing}; duplicates {duplicate_mitras}",
        tally.mitras.len(),
        tally.mitra_attempts.values().sum::<u64>(),
        tally.mitra_attempts.len(),
        listed.len()
    );
    let ok = server_errors == 0
        && customers_missing == 0
        && mitras_missing == 0
        && duplicate_mitras == 0
        && listed.len() as u64 == total;
    println!(
        "load: server_errors={server_errors} lost={} duplicates={duplicate_mitras} -> {}",
        customers_missing + mitras_missing,
        if ok { "PASS" } else { "FAIL" }
    );
    if !ok {
        bail!("load run found errors, loss or duplicates");
    }
    Ok(())
}
