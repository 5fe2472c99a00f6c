//! The requests' fixtures: tokens, ids, pools of one-use identities, and the events.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, bail};
use devkit::devtoken::{Minter, Persona};
use futures::StreamExt;
use serde_json::{Value, json};
use shared::App;
use shared::domain::{CustomerDisplayName, DisplayName, Email, Phone};
use shared::routes::{self, Access, Route};

/// Everything the requests need: tokens, ids, and pools of one-use identities.
pub struct Fixtures {
    /// `events/<route>.json` of each route, with its `{{NAME}}` placeholders.
    pub events: HashMap<&'static str, String>,
    pub admin: String,
    client: String,
    pub client_customer: uuid::Uuid,
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
    pub async fn new(
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
        let outcome = app
            .customers()
            .create_anonymous(CustomerDisplayName::parse(Some("Bench Client"))?, Some(&client_uid))
            .await?;
        let client_customer = outcome.value().ok_or_else(|| anyhow::anyhow!("no customer"))?.id;
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
                let outcome = app
                    .customers()
                    .create_anonymous(CustomerDisplayName::parse(Some(&format!("Link {i}")))?, Some(&uid))
                    .await?;
                let customer = outcome.value().ok_or_else(|| anyhow::anyhow!("no customer"))?;
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
    pub fn event(&self, route: &Route) -> anyhow::Result<Vec<u8>> {
        Ok(self.event_and_one_use(route)?.0)
    }

    /// [`Fixtures::event`], and the one-use values in it (new uids, phones, emails, the
    /// customer to link), always in the same order for a route: a replayed write of the
    /// floor takes a new event's values in place of the recorded ones.
    pub fn event_and_one_use(&self, route: &Route) -> anyhow::Result<(Vec<u8>, Vec<String>)> {
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
pub fn cannot_drive(route: &Route, fixtures: &Fixtures) -> Option<String> {
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
