//! Logs an on-call engineer can use, and that never hold a token, a full phone
//! number or a full email. Every test's logs are captured (see `helpers::capture_logs`).

use serde_json::{Value, json};

use crate::helpers::{captured_logs, minted_secrets, phone, spawn_app, unique};

#[tokio::test]
async fn each_request_logs_one_json_line_with_id_route_status_latency_and_uid() {
    let app = spawn_app().await;
    let uid = unique("logged");
    let answer = app.public("GET", "/api/shared/config/anonymity", Some(&app.anonymous_token(&uid)), None).await;
    let request_id = answer.headers["x-request-id"].to_str().unwrap().to_owned();
    let lines: Vec<Value> = captured_logs()
        .lines()
        .filter(|l| l.contains(&request_id))
        .map(|l| serde_json::from_str(l).expect("every log line is JSON"))
        .collect();
    let request_lines: Vec<&Value> = lines.iter().filter(|l| l["message"] == "request").collect();
    assert_eq!(request_lines.len(), 1, "{lines:?}");
    let line = request_lines[0];
    assert_eq!(line["request_id"], request_id.as_str());
    assert_eq!(line["route"], "public-anonymity-get");
    assert_eq!(line["status"], 200);
    assert_eq!(line["uid"], uid.as_str());
    assert!(line["latency_ms"].as_f64().is_some());
    assert_valid_emf(line);
    assert_eq!((line["Route"].clone(), line["Requests"].clone()), (json!("public-anonymity-get"), json!(1)));
}

/// The request line of `request_id`, parsed.
pub fn request_line(request_id: &str) -> Value {
    let line = captured_logs()
        .lines()
        .filter(|l| l.contains(request_id))
        .map(|l| serde_json::from_str::<Value>(l).expect("every log line is JSON"))
        .find(|l| l["message"] == "request" || l["message"] == "request failed");
    line.unwrap_or_else(|| panic!("no request line for {request_id}"))
}

/// CloudWatch's Embedded Metric Format: `_aws.Timestamp` in ms, and directives whose every
/// dimension is a string and every metric a number at the line's top level.
#[track_caller]
pub fn assert_valid_emf(line: &Value) {
    let aws = &line["_aws"];
    assert!(aws["Timestamp"].as_u64().is_some_and(|t| t > 1_600_000_000_000), "{line}");
    let directives = aws["CloudWatchMetrics"].as_array().expect("CloudWatchMetrics is an array");
    assert!(!directives.is_empty() && directives.len() <= 10, "{line}");
    for directive in directives {
        assert_eq!(directive["Namespace"], shared::metrics::NAMESPACE, "{line}");
        for set in directive["Dimensions"].as_array().expect("Dimensions is an array") {
            let set = set.as_array().expect("a dimension set is an array");
            assert!(!set.is_empty() && set.len() <= 30, "{line}");
            for name in set {
                assert!(line[name.as_str().unwrap()].is_string(), "dimension {name} is a string member: {line}");
            }
        }
        let metrics = directive["Metrics"].as_array().expect("Metrics is an array");
        assert!(!metrics.is_empty() && metrics.len() <= 100, "{line}");
        for metric in metrics {
            let name = metric["Name"].as_str().expect("a metric has a Name");
            assert!(line[name].is_number(), "metric {name} is a number member: {line}");
            assert!(matches!(metric["Unit"].as_str(), Some("Count" | "Milliseconds")), "{line}");
        }
    }
}

#[tokio::test]
async fn a_refused_request_counts_its_error_code_and_a_server_error_counts_as_such() {
    let app = spawn_app().await;
    let answer = app.public("POST", "/api/client/auth/verify", Some("forged.token.value"), None).await;
    let line = request_line(answer.headers["x-request-id"].to_str().unwrap());
    assert_valid_emf(&line);
    assert_eq!((line["Code"].clone(), line["ErrorResponses"].clone()), (json!("UNAUTHORIZED"), json!(1)));
    assert_eq!(line["ServerErrors"], 0);
}

#[tokio::test]
async fn logs_hold_no_token_and_no_full_phone_number_or_email() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let number = phone();
    let email = format!("{}@halobestie.com", unique("user"));
    let operator_role = shared::domain::roles::operator_role().id;
    crate::internal::create_mitra(&app, &admin, &number).await;
    app.internal(
        "POST",
        "/internal/mitras",
        Some(&admin),
        Some(json!({ "phone": number, "display_name": "Dr. Budi" })),
    )
    .await
    .assert_error(409, "CONFLICT");
    let body = json!({ "email": email, "display_name": "ControlCenterCaller", "role_id": operator_role });
    app.internal("POST", "/internal/control-center-users", Some(&admin), Some(body)).await.assert_ok(201);
    let customer_number = phone();
    let uid = unique("leak");
    let id = app
        .public("POST", "/api/shared/customer/anonymous", None, Some(json!({ "display_name": "A" })))
        .await
        .data()["id"]
        .clone();
    let token = app.phone_token(&uid, &customer_number);
    app.public(
        "POST",
        "/api/shared/customer/link",
        Some(&token),
        Some(json!({ "customer_id": id, "firebase_uid": uid })),
    )
    .await
    .assert_ok(200);
    app.public("POST", "/api/mitra/auth/verify", Some(&app.mitra_token("m", &customer_number)), None)
        .await
        .assert_error(404, "ACCOUNT_NOT_FOUND");
    app.public("POST", "/api/client/auth/verify", Some("forged.token.value"), None)
        .await
        .assert_error(401, "UNAUTHORIZED");

    let logs = captured_logs();
    assert!(logs.contains("+628"), "masked phones are logged: the capture works");
    for secret in minted_secrets().iter().chain([&number, &customer_number, &email, &token, &admin]) {
        let signature = secret.rsplit('.').next().unwrap_or(secret);
        assert!(!logs.contains(secret.as_str()), "a secret appears in the logs");
        assert!(signature.len() < 20 || !logs.contains(signature), "a token signature appears in the logs");
    }
    assert!(!logs.contains("forged.token.value"));
}
