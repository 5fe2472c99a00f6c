//! The chaos run's reconciliation: what the API answered, against what the tables and the
//! anonymity parameter hold afterwards, read straight from storage.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Map, Value, json};
use shared::App;

/// When a fault was on.
pub struct Window {
    pub name: &'static str,
    pub from: Instant,
    pub until: Instant,
}

/// One request of the traffic and its answer.
pub struct Sample {
    pub op: &'static str,
    /// The uid, phone or mitra id the request acted on.
    pub key: String,
    /// The `data.id` answered.
    pub id: Option<String>,
    pub status: u16,
    pub retry_after: bool,
    pub started: Instant,
    pub finished: Instant,
}

impl Sample {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Something the reconciliation found wrong: which check, on what, and how.
#[derive(Clone)]
pub struct Finding {
    pub check: &'static str,
    pub target: String,
    pub detail: String,
}

fn finding(check: &'static str, target: impl Into<String>, detail: impl Into<String>) -> Finding {
    Finding { check, target: target.into(), detail: detail.into() }
}

const BAD_ANSWER: &str = "answer";
const NOT_BACK: &str = "back-within-5s";
const LOST: &str = "stored-once/lost";
const DUPLICATED: &str = "stored-once/duplicated";
const UNRECORDED: &str = "audit/change-without-one-record";
const ORPHAN_RECORD: &str = "audit/record-without-its-change";
const EMPTY_RECORD: &str = "audit/record-changing-nothing";
const COUNTER: &str = "counters";
const ORPHAN_CLAIM: &str = "claims";
const CHAIN: &str = "audit-chain";

/// `name=count` for every check, zeros included, so that runs compare line by line.
pub fn counts(findings: &[Finding]) -> String {
    [BAD_ANSWER, NOT_BACK, LOST, DUPLICATED, UNRECORDED, ORPHAN_RECORD, EMPTY_RECORD, COUNTER, ORPHAN_CLAIM, CHAIN]
        .iter()
        .map(|check| format!("{check}={}", findings.iter().filter(|f| f.check == *check).count()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The statuses each operation of the traffic may answer besides `503`.
fn expected(op: &str, status: u16) -> bool {
    match op {
        "customer.create" => matches!(status, 200 | 201),
        "customer.delete" | "customer.verify" | "mitra.status" | "mitra.delete" => matches!(status, 200 | 404),
        "mitra.create" => matches!(status, 201 | 409),
        _ => status == 200,
    }
}

pub struct Answers {
    pub ok: usize,
    pub refused: usize,
    pub unavailable: usize,
    pub bad: usize,
    /// The latest end of a `503` after a fault's end, from that end.
    pub recovery_max: Duration,
    pub findings: Vec<Finding>,
}

/// During a fault only `503` with `Retry-After` may replace an answer; after it, no `503`
/// may end later than `recovery` past the fault's end.
pub fn answers(samples: &[Sample], windows: &[Window], recovery: Duration) -> Answers {
    let mut out = Answers { ok: 0, refused: 0, unavailable: 0, bad: 0, recovery_max: Duration::ZERO, findings: vec![] };
    for s in samples {
        let during = windows.iter().find(|w| s.started <= w.until && s.finished >= w.from);
        let after = windows.iter().rev().find(|w| w.until < s.started);
        let when = match (during, after) {
            (Some(w), _) => format!("during {}", w.name),
            (None, Some(w)) => format!("{} ms after {} ended", (s.started - w.until).as_millis(), w.name),
            (None, None) => "before any fault".into(),
        };
        let target = format!("{} {}", s.op, s.key);
        if s.status == 503 && s.retry_after {
            out.unavailable += 1;
            if during.is_some() {
                continue;
            }
            match after {
                Some(w) if s.finished - w.until <= recovery => {
                    out.recovery_max = out.recovery_max.max(s.finished - w.until);
                }
                Some(w) => out.findings.push(finding(
                    NOT_BACK,
                    target,
                    format!("503 ending {} ms after {} ended", (s.finished - w.until).as_millis(), w.name),
                )),
                None => out.findings.push(finding(NOT_BACK, target, "503 before any fault")),
            }
        } else if expected(s.op, s.status) {
            if s.ok() { out.ok += 1 } else { out.refused += 1 }
        } else {
            out.bad += 1;
            let what = if s.status == 503 { "503 without Retry-After".into() } else { s.status.to_string() };
            out.findings.push(finding(BAD_ANSWER, target, format!("{what} {when}")));
        }
    }
    out
}

/// Everything stored, as JSON, each table's items by key prefix.
pub struct Stored {
    pub customers: Vec<Value>,
    pub mitras: Vec<Value>,
    pub users: Vec<Value>,
    pub audit: Vec<Value>,
    claims: Vec<(&'static str, Value)>,
    counters: HashMap<&'static str, Value>,
    anonymity: Option<bool>,
    /// The anonymity parameter's versions, oldest first: (version, value).
    anonymity_history: Vec<(i64, bool)>,
}

impl Stored {
    pub async fn read(app: &App) -> anyhow::Result<Self> {
        let mut stored = Self {
            customers: vec![],
            mitras: vec![],
            users: vec![],
            audit: vec![],
            claims: vec![],
            counters: HashMap::new(),
            anonymity: None,
            anonymity_history: vec![],
        };
        let t = &app.tables;
        for (name, table) in [("customers", &t.customers), ("mitras", &t.mitras), ("users", &t.control_center_users)] {
            for item in scan(app, table).await? {
                let pk = item["pk"].as_str().unwrap_or_default().to_owned();
                match pk.split_once('#').map(|(kind, _)| kind).unwrap_or(&pk) {
                    "CUSTOMER" => stored.customers.push(item),
                    "MITRA" => stored.mitras.push(item),
                    "USER" => stored.users.push(item),
                    "COUNTER" => {
                        stored.counters.insert(name, item);
                    }
                    _ => stored.claims.push((name, item)),
                }
            }
        }
        stored.audit = scan(app, &t.audit_log).await?;
        stored.audit.sort_by(|a, b| a["list_sk"].as_str().cmp(&b["list_sk"].as_str()));
        stored.read_anonymity(app).await?;
        Ok(stored)
    }

    async fn read_anonymity(&mut self, app: &App) -> anyhow::Result<()> {
        let name = &app.config.anonymity_parameter;
        let current = app.ssm.get_parameter().name(name).send().await.context("reading the anonymity parameter")?;
        self.anonymity = current.parameter.and_then(|p| p.value).map(|v| v == "true");
        let mut versions = Vec::new();
        let mut next = None;
        loop {
            let page = app
                .ssm
                .get_parameter_history()
                .name(name)
                .set_next_token(next)
                .send()
                .await
                .context("reading the anonymity parameter's history")?;
            versions.extend(page.parameters().iter().map(|p| (p.version, p.value() == Some("true"))));
            next = page.next_token;
            if next.is_none() {
                break;
            }
        }
        versions.sort();
        self.anonymity_history = versions;
        Ok(())
    }

    pub fn claims(&self) -> usize {
        self.claims.len()
    }

    fn by_id<'a>(items: &'a [Value], id: &str) -> Option<&'a Value> {
        items.iter().find(|i| i["id"].as_str() == Some(id))
    }
}

async fn scan(app: &App, table: &str) -> anyhow::Result<Vec<Value>> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = app
            .dynamo
            .scan()
            .table_name(table)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .with_context(|| format!("scanning {table}"))?;
        for item in page.items() {
            items.push(serde_dynamo::from_item(item.clone()).with_context(|| format!("an item of {table}"))?);
        }
        start = page.last_evaluated_key;
        if start.is_none() {
            return Ok(items);
        }
    }
}

/// Every check of storage against the answers and against itself.
pub fn storage(samples: &[Sample], stored: &Stored) -> Vec<Finding> {
    let mut findings = Vec::new();
    findings.extend(customers_stored_once(samples, stored));
    findings.extend(mitras_stored_once(samples, stored));
    findings.extend(mitra_records(samples, stored));
    findings.extend(anonymity_records(stored));
    findings.extend(mitra_versions(samples, stored));
    findings.extend(counters(stored));
    findings.extend(claims(stored));
    findings.extend(chains(stored));
    findings
}

fn answered<'a>(samples: &'a [Sample], op: &'a str) -> impl Iterator<Item = &'a Sample> {
    samples.iter().filter(move |s| s.op == op && s.ok())
}

/// Requests of `op` that may have committed without saying so: `503`, or no answer.
fn maybe_done<'a>(samples: &'a [Sample], op: &'a str) -> impl Iterator<Item = &'a Sample> {
    samples.iter().filter(move |s| s.op == op && matches!(s.status, 503 | 0))
}

/// Entities that share a value of `field`, which one entity at most may hold.
fn sharing(entities: &[Value], field: &str, what: &str) -> Vec<Finding> {
    let mut per_value: BTreeMap<&str, usize> = BTreeMap::new();
    for e in entities {
        *per_value.entry(e[field].as_str().unwrap_or_default()).or_default() += 1;
    }
    let shared = per_value.into_iter().filter(|(value, n)| *n > 1 && !value.is_empty());
    shared.map(|(value, n)| finding(DUPLICATED, format!("{field} {value}"), format!("{n} {what}"))).collect()
}

fn customers_stored_once(samples: &[Sample], stored: &Stored) -> Vec<Finding> {
    let mut findings = sharing(&stored.customers, "bound_uid", "customers");
    let mut deleted: HashMap<&str, usize> = HashMap::new();
    for s in answered(samples, "customer.delete") {
        *deleted.entry(s.id.as_deref().unwrap_or_default()).or_default() += 1;
    }
    for (id, n) in &deleted {
        if Stored::by_id(&stored.customers, id).is_some() {
            findings.push(finding(LOST, format!("customer {id}"), "a DELETE answered 200 but it is stored"));
        }
        if *n > 1 {
            findings.push(finding(DUPLICATED, format!("customer {id}"), format!("{n} DELETEs answered 200")));
        }
    }
    for s in answered(samples, "customer.create") {
        let id = s.id.as_deref().unwrap_or_default();
        let delete_unanswered = maybe_done(samples, "customer.delete").any(|d| d.key == s.key);
        if Stored::by_id(&stored.customers, id).is_none() && !deleted.contains_key(id) && !delete_unanswered {
            let detail = format!(
                "answered {} for uid {}, not stored, and no DELETE of the uid may have removed it",
                s.status, s.key
            );
            findings.push(finding(LOST, format!("customer {id}"), detail));
        }
    }
    findings
}

fn mitras_stored_once(samples: &[Sample], stored: &Stored) -> Vec<Finding> {
    let mut findings = sharing(&stored.mitras, "phone", "mitras");
    let deleted: Vec<&str> = answered(samples, "mitra.delete").map(|s| s.key.as_str()).collect();
    let maybe_deleted: Vec<&str> = maybe_done(samples, "mitra.delete").map(|s| s.key.as_str()).collect();
    for id in &deleted {
        if Stored::by_id(&stored.mitras, id).is_some() {
            findings.push(finding(LOST, format!("mitra {id}"), "a DELETE answered 200 but it is stored"));
        }
    }
    for s in answered(samples, "mitra.create") {
        let id = s.id.as_deref().unwrap_or_default();
        if Stored::by_id(&stored.mitras, id).is_none() && !deleted.contains(&id) && !maybe_deleted.contains(&id) {
            let detail = "answered 201, not stored, and no DELETE of it may have removed it";
            findings.push(finding(LOST, format!("mitra {id}"), detail));
        }
    }
    findings
}

fn records_of<'a>(stored: &'a Stored, kind: &str, id: &str) -> Vec<&'a Value> {
    stored.audit.iter().filter(|r| r["target"]["type"] == kind && r["target"]["id"] == id).collect()
}

fn count_action(records: &[&Value], action: &str) -> usize {
    records.iter().filter(|r| r["action"] == action).count()
}

/// Every stored mitra has its one create record, every create record its mitra or its one
/// delete record, and every 2xx create and delete its record.
fn mitra_records(samples: &[Sample], stored: &Stored) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut targets: Vec<String> = stored.mitras.iter().filter_map(|m| m["id"].as_str().map(str::to_owned)).collect();
    targets.extend(
        stored
            .audit
            .iter()
            .filter(|r| r["target"]["type"] == "mitra")
            .filter_map(|r| r["target"]["id"].as_str().map(str::to_owned)),
    );
    targets.extend(answered(samples, "mitra.create").filter_map(|s| s.id.clone()));
    targets.sort();
    targets.dedup();
    let deletes_answered: Vec<&str> = answered(samples, "mitra.delete").map(|s| s.key.as_str()).collect();
    for id in targets {
        let records = records_of(stored, "mitra", &id);
        let (creates, deletes) = (count_action(&records, "mitra.create"), count_action(&records, "mitra.delete"));
        let is_stored = Stored::by_id(&stored.mitras, &id).is_some();
        let target = format!("mitra {id}");
        if creates != 1 {
            findings.push(finding(UNRECORDED, &target, format!("{creates} mitra.create records")));
        }
        match (is_stored, deletes) {
            (true, 0) | (false, 1) => {}
            (true, n) => {
                findings.push(finding(ORPHAN_RECORD, &target, format!("stored, yet {n} mitra.delete records")))
            }
            (false, 0) => findings.push(finding(ORPHAN_RECORD, &target, "not stored, and no mitra.delete record")),
            (false, n) => findings.push(finding(UNRECORDED, &target, format!("{n} mitra.delete records"))),
        }
        if deletes_answered.contains(&id.as_str()) && deletes != 1 {
            findings.push(finding(UNRECORDED, &target, format!("DELETE answered 200; {deletes} mitra.delete records")));
        }
    }
    findings
}

/// One record for each version of the anonymity parameter that changed its value, none for
/// one that did not: SSM orders the writes, and each version's record is derived from it.
fn anonymity_records(stored: &Stored) -> Vec<Finding> {
    let versions = &stored.anonymity_history;
    if versions.first().is_none_or(|(number, _)| *number != 1) {
        return vec![finding(UNRECORDED, "config anonymity", "SSM's history no longer holds version 1")];
    }
    // Before its first version the parameter reads as the launch default, on.
    let mut before = true;
    let mut changes = 0;
    for (_, value) in versions {
        changes += usize::from(*value != before);
        before = *value;
    }
    let records = records_of(stored, "config", "anonymity").len();
    if records == changes {
        return vec![];
    }
    let (check, how) = if records < changes { (UNRECORDED, "fewer") } else { (DUPLICATED, "more") };
    let detail = format!(
        "{records} config.anonymity.update records, {how} than the {changes} changes among the parameter's {} versions",
        versions.len()
    );
    vec![finding(check, "config anonymity", detail)]
}

/// Each stored mitra's `version` counts its writes, and every write the traffic makes of a
/// mitra is audited: its records are exactly as many. And no target holds more records of an
/// action than requests of it that may have committed.
fn mitra_versions(samples: &[Sample], stored: &Stored) -> Vec<Finding> {
    let mut findings = Vec::new();
    for m in &stored.mitras {
        let id = m["id"].as_str().unwrap_or_default();
        let version = m["version"].as_u64().unwrap_or(0) as usize;
        let records = records_of(stored, "mitra", id).len();
        if version != records {
            let (check, how) = if records < version { (UNRECORDED, "fewer") } else { (DUPLICATED, "more") };
            let detail = format!("{records} records, {how} than its {version} writes (its version)");
            findings.push(finding(check, format!("mitra {id}"), detail));
        }
    }
    let mut attempts: HashMap<(&str, &str), usize> = HashMap::new();
    for s in samples.iter().filter(|s| s.ok() || matches!(s.status, 503 | 0)) {
        *attempts.entry((s.op, s.key.as_str())).or_default() += 1;
    }
    for op in ["mitra.status", "mitra.delete"] {
        let mut recorded: HashMap<&str, usize> = HashMap::new();
        for r in stored.audit.iter().filter(|r| r["action"] == op) {
            *recorded.entry(r["target"]["id"].as_str().unwrap_or_default()).or_default() += 1;
        }
        for (id, n) in recorded {
            let tried = attempts.get(&(op, id)).copied().unwrap_or(0);
            if n > tried {
                let detail = format!("{n} {op} records from {tried} requests that may have committed");
                findings.push(finding(DUPLICATED, format!("mitra {id}"), detail));
            }
        }
    }
    findings
}

fn counters(stored: &Stored) -> Vec<Finding> {
    let count = |items: &[Value], keep: &dyn Fn(&Value) -> bool| items.iter().filter(|i| keep(i)).count() as u64;
    let super_admin = shared::domain::roles::super_admin_role_id().to_string();
    let expected: [(&str, &str, u64); 5] = [
        ("mitras", "total", stored.mitras.len() as u64),
        ("mitras", "active", count(&stored.mitras, &|m| m["is_active"] == true)),
        ("mitras", "inactive", count(&stored.mitras, &|m| m["is_active"] == false)),
        ("users", "total", stored.users.len() as u64),
        (
            "users",
            "active_super_admins",
            count(&stored.users, &|u| u["is_active"] != false && u["role_id"].as_str() == Some(&super_admin)),
        ),
    ];
    let mut findings = Vec::new();
    for (table, counter, items) in expected {
        let held = stored.counters.get(table).and_then(|c| c[counter].as_u64()).unwrap_or(0);
        if held != items {
            findings.push(finding(COUNTER, format!("{table} {counter}"), format!("counter {held}, items {items}")));
        }
    }
    findings
}

/// Every claim leads to an entity whose field holds the claimed value, and every customer's
/// uid and every mitra's phone has its claim.
fn claims(stored: &Stored) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (table, claim) in &stored.claims {
        let pk = claim["pk"].as_str().unwrap_or_default();
        let (kind, value) = pk.split_once('#').unwrap_or((pk, ""));
        let (entities, id_attribute, fields): (&[Value], &str, &[&str]) = match (*table, kind) {
            ("customers", "UID") => (&stored.customers, "customer_id", &["bound_uid", "linked_uid"]),
            ("customers", "PHONE") => (&stored.customers, "customer_id", &["phone"]),
            ("customers", "EMAIL") => (&stored.customers, "customer_id", &["email"]),
            ("mitras", "PHONE") => (&stored.mitras, "mitra_id", &["phone"]),
            ("users", "UID") => (&stored.users, "user_id", &["firebase_uid"]),
            ("users", "EMAIL") => (&stored.users, "user_id", &["email"]),
            _ => {
                findings.push(finding(ORPHAN_CLAIM, format!("{table} {pk}"), "an item of no known kind"));
                continue;
            }
        };
        let id = claim[id_attribute].as_str().unwrap_or_default();
        match Stored::by_id(entities, id) {
            None => {
                findings.push(finding(ORPHAN_CLAIM, format!("{table} {pk}"), format!("points at {id}, not stored")))
            }
            // A revoked uid's marker no longer binds: it needs no matching field.
            Some(_) if claim.get("revoked_before").is_some() => {}
            Some(entity)
                if !fields.iter().any(|f| entity[*f].as_str().map(str::to_lowercase) == Some(value.to_lowercase())) =>
            {
                findings.push(finding(
                    ORPHAN_CLAIM,
                    format!("{table} {pk}"),
                    format!("{id} holds another {}", fields[0]),
                ))
            }
            Some(_) => {}
        }
    }
    let claimed = |table: &str, pk: String, id: &str| {
        stored
            .claims
            .iter()
            .any(|(t, c)| *t == table && c["pk"] == pk && c.as_object().is_some_and(|c| c.values().any(|v| v == id)))
    };
    for c in &stored.customers {
        let (id, uid) = (c["id"].as_str().unwrap_or_default(), c["bound_uid"].as_str());
        if let Some(uid) = uid.filter(|uid| !claimed("customers", format!("UID#{uid}"), id)) {
            findings.push(finding(ORPHAN_CLAIM, format!("customer {id}"), format!("no UID#{uid} claim leads to it")));
        }
    }
    for m in &stored.mitras {
        let (id, phone) = (m["id"].as_str().unwrap_or_default(), m["phone"].as_str().unwrap_or_default());
        if !claimed("mitras", format!("PHONE#{phone}"), id) {
            findings.push(finding(ORPHAN_CLAIM, format!("mitra {id}"), format!("no PHONE#{phone} claim leads to it")));
        }
    }
    findings
}

/// For each target and field, oldest record first: a create's `from` is null, each `from` is
/// the previous record's `to`, and the newest `to` is the stored value (null once deleted).
fn chains(stored: &Stored) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut by_target: BTreeMap<(String, String), Vec<&Value>> = BTreeMap::new();
    for r in &stored.audit {
        let target = (r["target"]["type"].as_str().unwrap_or_default(), r["target"]["id"].as_str().unwrap_or_default());
        by_target.entry((target.0.to_owned(), target.1.to_owned())).or_default().push(r);
    }
    for ((kind, id), records) in by_target {
        let current = current_state(stored, &kind, &id);
        let mut last_to: BTreeMap<&str, &Value> = BTreeMap::new();
        for r in &records {
            let action = r["action"].as_str().unwrap_or_default();
            let record =
                format!("{action} {} ({})", r["id"].as_str().unwrap_or_default(), r["at"].as_str().unwrap_or_default());
            if r["changes"].as_object().is_none_or(|c| c.is_empty()) {
                findings.push(finding(EMPTY_RECORD, format!("{kind} {id}"), format!("{record}: changes {{}}")));
            }
            for (field, change) in r["changes"].as_object().into_iter().flatten() {
                let (from, to) = (&change["from"], &change["to"]);
                let broken = match last_to.get(field.as_str()) {
                    Some(previous) => {
                        (from != *previous).then(|| format!("from {from}, but the record before has to {previous}"))
                    }
                    None if action.ends_with(".create") => {
                        (!from.is_null()).then(|| format!("a create's from is {from}"))
                    }
                    None => None,
                };
                if let Some(broken) = broken {
                    findings.push(finding(CHAIN, format!("{kind} {id} {field}"), format!("{record}: {broken}")));
                }
                last_to.insert(field, to);
            }
        }
        for (field, to) in last_to {
            let now = current.get(field).unwrap_or(&Value::Null);
            if to != now {
                findings.push(finding(
                    CHAIN,
                    format!("{kind} {id} {field}"),
                    format!("the newest to is {to}, stored {now}"),
                ));
            }
        }
    }
    findings
}

/// The stored fields of an audit target, empty when it is not stored.
fn current_state(stored: &Stored, kind: &str, id: &str) -> Map<String, Value> {
    let entity = match kind {
        "mitra" => Stored::by_id(&stored.mitras, id).cloned(),
        "control_center_user" => Stored::by_id(&stored.users, id).cloned(),
        "config" if id == "anonymity" => stored.anonymity.map(|on| json!({ "anonymity_enabled": on })),
        _ => None,
    };
    entity.and_then(|e| e.as_object().cloned()).unwrap_or_default()
}
