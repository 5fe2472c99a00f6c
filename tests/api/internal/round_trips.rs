//! How many storage calls each internal request makes one after another, counted at a
//! recording proxy in front of DynamoDB Local and moto: a caller's second request to a
//! process (warm) makes at most three.

use std::sync::Arc;

use serde_json::json;
use shared::routes::{ALL, Surface};

use super::*;
use crate::helpers::spawn_app;
use crate::recording_proxy::{self, Recorder, sequential_steps, timeline};

const WARM_BOUND: usize = 3;

/// Each route's sequential storage calls when warm, none above [`WARM_BOUND`]: the caller's
/// claim, user and role in one batch, then the route's own reads and writes.
const WARM_STEPS: &[(&str, usize)] = &[
    ("internal-auth-verify", 1),
    ("mitras-create", 2),
    // Page keys beside the counter, then the page's items.
    ("mitras-list", 3),
    // The mitra read, then its write conditioned on the version read.
    ("mitras-status", 3),
    ("control-center-users-create", 3),
    ("control-center-users-list", 3),
    ("roles-list", 3),
    // The flag from the process's cache.
    ("anonymity-get", 1),
    // SSM orders the flag's writes: the write, then its history (the value it replaced),
    // then the record. The one route over the bound, for records that are exact.
    ("anonymity-patch", 4),
    ("mitras-get", 2),
    ("mitras-update", 3),
    ("mitras-delete", 3),
    ("mitras-revoke-sessions", 3),
    // The user and its role in one batch.
    ("control-center-users-get", 2),
    ("control-center-users-update", 3),
    ("control-center-users-delete", 3),
    ("control-center-users-revoke-sessions", 3),
    ("audit-log-list", 3),
];
/// Far longer than the SDK's work between two calls it makes side by side.
const LATENCY: std::time::Duration = std::time::Duration::from_millis(50);

/// A user created through the API with the operator role (never signed in): its id.
async fn operator_user(app: &TestApp, admin: &str) -> String {
    let body = json!({ "email": new_email(), "display_name": "Op", "role_id": operator_role_id() });
    let created = app.internal("POST", CONTROL_CENTER_USERS, Some(admin), Some(body)).await;
    created.assert_ok(201)["id"].as_str().unwrap().to_owned()
}

async fn mitra_id(app: &TestApp, admin: &str) -> String {
    create_mitra(app, admin, &phone()).await["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_callers_second_request_to_a_process_makes_at_most_three_sequential_storage_calls_on_every_internal_route() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let recorder = Arc::new(Recorder::default());
    let proxy = |variable: &str| {
        let upstream = std::env::var(variable).unwrap();
        let recorder = recorder.clone();
        async move { recording_proxy::start(&upstream, recorder, LATENCY).await }
    };
    let (dynamodb, ssm) = (proxy("AWS_ENDPOINT_URL_DYNAMODB").await, proxy("AWS_ENDPOINT_URL_SSM").await);

    let (mitra, user) = (mitra_id(&app, &admin).await, operator_user(&app, &admin).await);
    let mitras_to_delete = [mitra_id(&app, &admin).await, mitra_id(&app, &admin).await];
    let users_to_delete = [operator_user(&app, &admin).await, operator_user(&app, &admin).await];
    let user_patch = |name: &str| Some(json!({ "display_name": name, "role_id": operator_role_id() }));
    let mitra_body = || Some(json!({ "phone": phone(), "display_name": "Dr. Budi" }));
    let user_body = || Some(json!({ "email": new_email(), "display_name": "Op", "role_id": operator_role_id() }));
    // Each route's request, twice; the second is what a warm process answers.
    type Request = (&'static str, String, Option<Value>);
    let requests: Vec<[Request; 2]> = vec![
        [("POST", VERIFY.into(), None), ("POST", VERIFY.into(), None)],
        [("POST", MITRAS.into(), mitra_body()), ("POST", MITRAS.into(), mitra_body())],
        [("GET", MITRAS.into(), None), ("GET", MITRAS.into(), None)],
        // The second finds the status already so.
        [
            ("PATCH", status_path(&mitra), Some(json!({ "is_active": true }))),
            ("PATCH", status_path(&mitra), Some(json!({ "is_active": true }))),
        ],
        [("POST", CONTROL_CENTER_USERS.into(), user_body()), ("POST", CONTROL_CENTER_USERS.into(), user_body())],
        [("GET", CONTROL_CENTER_USERS.into(), None), ("GET", CONTROL_CENTER_USERS.into(), None)],
        [("GET", ROLES.into(), None), ("GET", ROLES.into(), None)],
        [("GET", ANONYMITY.into(), None), ("GET", ANONYMITY.into(), None)],
        [
            ("PATCH", ANONYMITY.into(), Some(json!({ "anonymity_enabled": false }))),
            ("PATCH", ANONYMITY.into(), Some(json!({ "anonymity_enabled": true }))),
        ],
        [("GET", format!("{MITRAS}/{mitra}"), None), ("GET", format!("{MITRAS}/{mitra}"), None)],
        [
            ("PATCH", format!("{MITRAS}/{mitra}"), Some(json!({ "display_name": "Dr. Ani" }))),
            ("PATCH", format!("{MITRAS}/{mitra}"), Some(json!({ "display_name": "Dr. Budi" }))),
        ],
        [
            ("DELETE", format!("{MITRAS}/{}", mitras_to_delete[0]), None),
            ("DELETE", format!("{MITRAS}/{}", mitras_to_delete[1]), None),
        ],
        [
            ("POST", format!("{MITRAS}/{mitra}/revoke-sessions"), None),
            ("POST", format!("{MITRAS}/{mitra}/revoke-sessions"), None),
        ],
        [("GET", user_path(&user), None), ("GET", user_path(&user), None)],
        [("PATCH", user_path(&user), user_patch("Op A")), ("PATCH", user_path(&user), user_patch("Op B"))],
        [("DELETE", user_path(&users_to_delete[0]), None), ("DELETE", user_path(&users_to_delete[1]), None)],
        [("POST", revoke_path(&user), None), ("POST", revoke_path(&user), None)],
        [("GET", AUDIT_LOG.into(), None), ("GET", AUDIT_LOG.into(), None)],
    ];
    let internal: Vec<_> = ALL.iter().filter(|r| r.surface == Surface::Internal).collect();
    for route in &internal {
        let covered =
            requests.iter().any(|[(method, path, _), _]| *method == route.method && route.match_path(path).is_some());
        assert!(covered, "{} {} is not measured", route.method, route.path);
    }

    let mut over = Vec::new();
    for [first, second] in requests {
        let route = internal.iter().find(|r| r.method == second.0 && r.match_path(&second.1).is_some()).unwrap().name;
        // A fresh process each time, so the first request is a cold one's.
        let process = app.process_behind(&dynamodb, &ssm).await;
        let mut steps = Vec::new();
        for (method, path, body) in [first, second] {
            recorder.take();
            let answer = process.internal(method, &path, Some(&admin), body).await;
            assert!((200..300).contains(&answer.status), "{route} answered {}: {}", answer.status, answer.body);
            let calls = recorder.take();
            steps.push((sequential_steps(&calls), timeline(&calls)));
        }
        eprintln!("{route}: cold {} ({}); warm {} ({})", steps[0].0, steps[0].1, steps[1].0, steps[1].1);
        let budget = WARM_STEPS.iter().find(|(name, _)| *name == route).map(|(_, n)| *n);
        let budget = budget.unwrap_or_else(|| panic!("{route} has no budget"));
        assert!(budget <= WARM_BOUND || route == "anonymity-patch", "{route}'s budget is over the bound");
        if steps[1].0 > budget {
            over.push(format!("{route}: {} sequential steps when warm, not {budget}: {}", steps[1].0, steps[1].1));
        }
    }
    assert!(over.is_empty(), "more sequential storage calls than budgeted: {over:#?}");
}
