//! A route's example made real on a stage: what its `sender` and `given` name is stored
//! first, then every `{{NAME}}` placeholder of its path, query and body gets its value. The
//! event fixtures' test, the round-trip count and the access tests all prepare requests here.

use anyhow::{Context, bail};
use lambda_http::aws_lambda_events::apigw::ApiGatewayProxyRequestContext;
use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt};
use shared::App;
use shared::domain::roles::operator_role;
use shared::domain::{CustomerDisplayName, DisplayName, Email, Phone};
use shared::routes::{self, Given, Route, Sender};

use crate::devtoken::Persona;

/// Where examples are prepared: the stage's storage, a way to sign its tokens, and the seeded
/// super admin's sign-in.
pub struct Stage<'a> {
    pub app: &'a App,
    pub mint: Box<dyn Fn(Persona) -> String + Send + Sync + 'a>,
    pub super_admin_uid: &'a str,
    pub super_admin_email: &'a str,
}

/// An example's placeholders with their values, and the id of what it acts on.
#[derive(Debug, Clone, Default)]
pub struct Prepared {
    pub vars: Vec<(&'static str, String)>,
    /// The mitra, control-center user or customer the answer's `data` is about.
    pub subject: Option<String>,
}

impl Prepared {
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }

    /// `text` with every placeholder this preparation knows filled in.
    pub fn fill(&self, text: &str) -> String {
        self.vars.iter().fold(text.to_owned(), |text, (key, value)| text.replace(&format!("{{{{{key}}}}}"), value))
    }

    pub fn token(&self) -> Option<&str> {
        self.var("TOKEN")
    }

    /// The example's path, with its query string.
    pub fn path(&self, route: &Route) -> String {
        let path =
            route.example.path_params.iter().fold(route.path.to_owned(), |path, (name, value)| {
                path.replace(&format!("{{{name}}}"), &self.fill(value))
            });
        let query: Vec<String> = route.example.query.iter().map(|(k, v)| format!("{k}={}", self.fill(v))).collect();
        if query.is_empty() { path } else { format!("{path}?{}", query.join("&")) }
    }

    pub fn body(&self, route: &Route) -> Option<String> {
        route.example.body.map(|body| self.fill(body))
    }
}

/// A fresh Indonesian mobile number in E.164.
pub fn fresh_phone() -> String {
    let n = uuid::Uuid::new_v4().as_u128() % 10_000_000_000;
    format!("+628{n:010}")
}

pub fn fresh(prefix: &str) -> String {
    format!("{prefix}-{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

impl Stage<'_> {
    /// Stores what `route`'s example needs and gives its placeholders their values; a fresh
    /// preparation each call, so an example can be sent twice.
    pub async fn prepare(&self, route: &Route) -> anyhow::Result<Prepared> {
        let mut prepared = self.sender(route.example.sender).await?;
        match route.example.given {
            Given::Nothing => {}
            Given::Mitra { active } => {
                let id = self.mitra(&fresh_phone(), active).await?;
                prepared.vars.push(("MITRA_ID", id.clone()));
                prepared.subject = Some(id);
            }
            Given::Operator => {
                let id = self.operator().await?;
                prepared.vars.push(("USER_ID", id.clone()));
                prepared.subject = Some(id);
            }
            Given::AnonymityEnabled => {
                let admin = self.super_admin_token().await?;
                let patch = routes::ANONYMITY_PATCH;
                self.call(&patch, &admin, Some(r#"{"anonymity_enabled":true}"#)).await?;
            }
        }
        prepared.vars.push(("PHONE", fresh_phone()));
        prepared.vars.push(("EMAIL", format!("{}@halobestie.com", fresh("operator"))));
        prepared.vars.push(("ROLE_ID", operator_role().id.to_string()));
        Ok(prepared)
    }

    async fn sender(&self, sender: Sender) -> anyhow::Result<Prepared> {
        let mut prepared = Prepared::default();
        match sender {
            Sender::Nobody => {}
            Sender::Customer | Sender::PhoneCustomer => {
                let uid = fresh("uid-customer");
                let name = CustomerDisplayName::parse(Some("Angin Malam")).map_err(|e| anyhow::anyhow!("{e:?}"))?;
                let created = self.app.customers().create_anonymous(name, Some(&uid)).await?;
                let customer = created.value().context("a customer is created")?.id.to_string();
                let token = match sender {
                    Sender::PhoneCustomer => {
                        (self.mint)(Persona::PhoneCustomer { uid: uid.clone(), phone: fresh_phone() })
                    }
                    _ => (self.mint)(Persona::Anonymous { uid: uid.clone() }),
                };
                prepared.vars.extend([("TOKEN", token), ("UID", uid), ("CUSTOMER_ID", customer.clone())]);
                prepared.subject = Some(customer);
            }
            Sender::Mitra => {
                let phone = fresh_phone();
                let mitra = self.mitra(&phone, true).await?;
                let token = (self.mint)(Persona::Mitra { uid: fresh("uid-mitra"), phone });
                prepared.vars.extend([("TOKEN", token), ("MITRA_ID", mitra.clone())]);
                prepared.subject = Some(mitra);
            }
            Sender::SuperAdmin => prepared.vars.push(("TOKEN", self.super_admin_token().await?)),
            Sender::NewSuperAdmin => prepared.vars.push(("TOKEN", self.super_admin_persona_token())),
        }
        Ok(prepared)
    }

    fn super_admin_persona_token(&self) -> String {
        (self.mint)(Persona::ControlCenter {
            uid: self.super_admin_uid.to_owned(),
            email: self.super_admin_email.to_owned(),
            email_verified: true,
        })
    }

    /// The super admin's token, its uid bound by a sign-in (`/internal/auth/verify`).
    pub async fn super_admin_token(&self) -> anyhow::Result<String> {
        let token = self.super_admin_persona_token();
        self.call(&routes::INTERNAL_AUTH_VERIFY, &token, None).await?;
        Ok(token)
    }

    async fn mitra(&self, phone: &str, active: bool) -> anyhow::Result<String> {
        let mitras = self.app.mitras();
        let phone = Phone::parse(phone).map_err(|e| anyhow::anyhow!("{}", e.message()))?;
        let name = DisplayName::parse("Dr. Budi").map_err(|e| anyhow::anyhow!("{}", e.message()))?;
        let mitra = mitras.create(&phone, name, None).await?.value().context("the phone is new")?;
        if active {
            mitras.set_status(&mitra.id, true, None).await?;
        }
        Ok(mitra.id.to_string())
    }

    async fn operator(&self) -> anyhow::Result<String> {
        let email = Email::parse(&format!("{}@halobestie.com", fresh("operator")))
            .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
        let name = DisplayName::parse("Operator").map_err(|e| anyhow::anyhow!("{}", e.message()))?;
        let users = self.app.control_center_users();
        let user = users.create(&email, name, operator_role().id, None).await?.value().context("the email is new")?;
        Ok(user.id.to_string())
    }

    /// Sends a path-parameterless request through `route`'s own handler, as its function would
    /// be sent it.
    async fn call(&self, route: &Route, token: &str, body: Option<&str>) -> anyhow::Result<()> {
        let mount = crate::endpoints::all().into_iter().find(|m| m.route == *route).context("route has a handler")?;
        let mut context = ApiGatewayProxyRequestContext::default();
        context.request_id = Some(fresh("fixture"));
        let request = http::Request::builder()
            .method(route.method)
            .uri(route.path)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(body.map_or(Body::Empty, |b| Body::Text(b.to_owned())))?
            .with_request_context(RequestContext::ApiGatewayV1(context));
        let response = (mount.handler)(self.app, request).await;
        if !response.status().is_success() {
            bail!("{} answered {} while preparing an example", route.name, response.status());
        }
        Ok(())
    }
}
