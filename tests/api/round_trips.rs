//! How many storage calls each route's example makes one after another, counted at a
//! recording proxy in front of DynamoDB Local and moto. Each route declares its budget for a
//! caller's second request to a process (warm); no internal one is over three but the
//! anonymity PATCH.

use std::sync::Arc;

use serde_json::Value;
use shared::routes::{ALL, Route, Surface};

use crate::helpers::{TestApp, spawn_app};
use crate::recording_proxy::{self, Recorder, sequential_steps, timeline};

const WARM_BOUND: u8 = 3;
/// Far longer than the SDK's work between two calls it makes side by side.
const LATENCY: std::time::Duration = std::time::Duration::from_millis(50);

/// The example, prepared afresh (so a create or a delete has something new to act on), sent
/// to `process`: the sequential storage calls it made, and their timeline.
async fn send(app: &TestApp, process: &TestApp, recorder: &Recorder, route: &Route) -> (usize, String) {
    let prepared = app.stage().prepare(route).await.expect("the example's state is stored");
    let body: Option<Value> = prepared.body(route).map(|b| serde_json::from_str(&b).expect("JSON body"));
    let path = prepared.path(route);
    recorder.take();
    let answer = match route.surface {
        Surface::Public => process.public(route.method, &path, prepared.token(), body).await,
        Surface::Internal => process.internal(route.method, &path, prepared.token(), body).await,
    };
    assert_eq!(answer.status, route.example.status, "{}: {}", route.name, answer.body);
    let calls = recorder.take();
    (sequential_steps(&calls), timeline(&calls))
}

#[tokio::test]
async fn a_callers_second_request_to_a_process_makes_no_more_sequential_storage_calls_than_its_route_declares() {
    let app = spawn_app().await;
    let recorder = Arc::new(Recorder::default());
    let proxy = |variable: &str| {
        let upstream = std::env::var(variable).unwrap();
        let recorder = recorder.clone();
        async move { recording_proxy::start(&upstream, recorder, LATENCY).await }
    };
    let (dynamodb, ssm) = (proxy("AWS_ENDPOINT_URL_DYNAMODB").await, proxy("AWS_ENDPOINT_URL_SSM").await);

    let mut over = Vec::new();
    for route in ALL {
        let unbound = route.surface == Surface::Public || route == shared::routes::ANONYMITY_PATCH;
        assert!(route.round_trips <= WARM_BOUND || unbound, "{}", route.name);
        // A fresh process each time, so the first request is a cold one's.
        let process = app.process_behind(&dynamodb, &ssm).await;
        let cold = send(&app, &process, &recorder, &route).await;
        let warm = send(&app, &process, &recorder, &route).await;
        eprintln!("{}: cold {} ({}); warm {} ({})", route.name, cold.0, cold.1, warm.0, warm.1);
        if warm.0 > usize::from(route.round_trips) {
            over.push(format!(
                "{}: {} sequential steps when warm, not {}: {}",
                route.name, warm.0, route.round_trips, warm.1
            ));
        }
    }
    assert!(over.is_empty(), "more sequential storage calls than declared: {over:#?}");
}
