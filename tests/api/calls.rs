//! What the customer-facing tests send: the public paths, a customer created or linked, and a
//! raw request with any method, headers and body.

use serde_json::{Value, json};

use crate::helpers::{Answer, TestApp, unique};

/// The customer-facing paths the strict-contract tests call.
pub const CREATE: &str = "/api/shared/customer/anonymous";
pub const LINK: &str = "/api/shared/customer/link";
pub const VERIFY: &str = "/api/client/auth/verify";
pub const ACCOUNT: &str = "/api/client/account";

pub async fn create_customer(app: &TestApp, uid: &str) -> String {
    let answer =
        app.public("POST", CREATE, Some(&app.anonymous_token(uid)), Some(json!({ "display_name": "Angin" }))).await;
    answer.assert_ok(201)["id"].as_str().unwrap().to_owned()
}

/// The `Authorization` value of a new anonymous customer.
pub async fn customer_bearer(app: &TestApp) -> String {
    let uid = unique("uid");
    create_customer(app, &uid).await;
    format!("Bearer {}", app.anonymous_token(&uid))
}

pub async fn link(app: &TestApp, token: &str, customer_id: &str, uid: &str) -> Answer {
    app.public("POST", LINK, Some(token), Some(json!({ "customer_id": customer_id, "firebase_uid": uid }))).await
}

/// A raw request: any method, headers and body; the answer read whole (an empty body is `null`).
pub async fn raw(
    app: &TestApp,
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Answer {
    let mut request = app.http.request(method.parse().unwrap(), format!("{base}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.body(body.to_owned());
    }
    let response = request.send().await.expect("gateway answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
    Answer { status, headers, body }
}
