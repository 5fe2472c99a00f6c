//! `GET /internal/mitras`: pages, order, totals, the `is_active` filter, and its query validation.

use serde_json::json;

use super::*;
use crate::helpers::{is_rfc3339_utc, spawn_app};

/// Creates `n` mitras one after another as fast as the API allows; returns their ids, oldest first.
async fn create_mitras(app: &TestApp, token: &str, n: usize) -> Vec<Value> {
    let mut ids = Vec::with_capacity(n);
    for _ in 0..n {
        ids.push(create_mitra(app, token, &phone()).await["id"].clone());
    }
    ids
}

async fn page(app: &TestApp, token: &str, query: &str) -> Value {
    app.internal("GET", &format!("{MITRAS}?{query}"), Some(token), None).await.assert_ok(200).clone()
}

fn ids(page: &Value) -> Vec<Value> {
    page["items"].as_array().expect("items is an array").iter().map(|m| m["id"].clone()).collect()
}

#[tokio::test]
async fn mitra_list_answers_the_contract_shape_with_defaults_page_1_limit_20() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let e164 = phone();
    let created = create_mitra(&app, &admin, &e164).await;
    set_status(&app, &admin, &created["id"], true).await.assert_ok(200);
    let data = page(&app, &admin, "").await;
    assert_eq!(Answer::keys(&data), ["items", "limit", "page", "total"]);
    assert_eq!((&data["page"], &data["limit"], &data["total"]), (&json!(1), &json!(20), &json!(1)));
    let item = &data["items"][0];
    assert_eq!(Answer::keys(item), ["created_at", "display_name", "id", "is_active", "phone"]);
    assert!(is_uuid(&item["id"]));
    assert_eq!(item["id"], created["id"]);
    assert_eq!(item["phone"], e164);
    assert_eq!(item["display_name"], "Dr. Budi");
    assert_eq!(item["is_active"], true);
    assert!(is_rfc3339_utc(&item["created_at"]));
    assert_eq!(item["created_at"], created["created_at"]);
    // An operator (mitra:read) sees the same.
    let operator = app.operator_token().await;
    assert_eq!(page(&app, &operator, "").await, data);
}

#[tokio::test]
async fn mitra_list_pages_are_disjoint_newest_first_and_a_page_past_the_end_is_empty_with_the_same_total() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let created = create_mitras(&app, &admin, 7).await;
    let newest_first: Vec<Value> = created.iter().rev().cloned().collect();

    let mut seen = Vec::new();
    let mut stamps = Vec::new();
    for (number, expected_len) in [(1, 3), (2, 3), (3, 1), (4, 0)] {
        let data = page(&app, &admin, &format!("page={number}&limit=3")).await;
        assert_eq!(data["total"], 7, "page {number}");
        assert_eq!(data["page"], number);
        assert_eq!(data["limit"], 3);
        let page_ids = ids(&data);
        assert_eq!(page_ids.len(), expected_len, "page {number}: {data}");
        for id in &page_ids {
            assert!(!seen.contains(id), "{id} is on two pages");
        }
        seen.extend(page_ids);
        stamps.extend(data["items"].as_array().unwrap().iter().map(|m| m["created_at"].as_str().unwrap().to_owned()));
    }
    assert_eq!(seen, newest_first, "the last created is the first item, and so on");
    let mut sorted = stamps.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(stamps, sorted, "created_at never increases down the list");
    assert_eq!(page(&app, &admin, "page=100&limit=100").await["total"], 7);
    assert_eq!(page(&app, &admin, "page=100&limit=100").await["items"], json!([]));
}

#[tokio::test]
async fn mitra_list_is_active_filter_returns_only_matching_mitras_with_a_matching_total() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let created = create_mitras(&app, &admin, 7).await;
    for i in [1, 4, 5] {
        set_status(&app, &admin, &created[i], true).await.assert_ok(200);
    }
    // One activated and deactivated again: counts move back.
    set_status(&app, &admin, &created[2], true).await.assert_ok(200);
    set_status(&app, &admin, &created[2], false).await.assert_ok(200);

    let active = page(&app, &admin, "is_active=true").await;
    assert_eq!(active["total"], 3);
    assert_eq!(ids(&active), [&created[5], &created[4], &created[1]].map(Clone::clone));
    assert!(active["items"].as_array().unwrap().iter().all(|m| m["is_active"] == true));

    let inactive = page(&app, &admin, "is_active=false").await;
    assert_eq!(inactive["total"], 4);
    assert_eq!(ids(&inactive), [&created[6], &created[3], &created[2], &created[0]].map(Clone::clone));
    assert!(inactive["items"].as_array().unwrap().iter().all(|m| m["is_active"] == false));

    // Filtered pages are disjoint too, and keep the filtered total.
    let first = page(&app, &admin, "is_active=true&limit=2").await;
    let second = page(&app, &admin, "is_active=true&limit=2&page=2").await;
    let third = page(&app, &admin, "is_active=true&limit=2&page=3").await;
    assert_eq!(ids(&first), [&created[5], &created[4]].map(Clone::clone));
    assert_eq!(ids(&second), [created[1].clone()]);
    assert_eq!(third["items"], json!([]));
    for data in [&first, &second, &third] {
        assert_eq!(data["total"], 3);
    }
    assert_eq!(page(&app, &admin, "").await["total"], 7);
}

#[tokio::test]
async fn mitra_list_rejects_out_of_range_and_malformed_query_values_with_422() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let cases = [
        ("page=0", vec!["page"]),
        ("page=-1", vec!["page"]),
        ("page=abc", vec!["page"]),
        ("page=1.5", vec!["page"]),
        ("limit=0", vec!["limit"]),
        ("limit=101", vec!["limit"]),
        ("limit=abc", vec!["limit"]),
        ("limit=", vec!["limit"]),
        ("is_active=yes", vec!["is_active"]),
        ("is_active=1", vec!["is_active"]),
        ("is_active=TRUE", vec!["is_active"]),
        ("page=0&limit=101&is_active=yes", vec!["is_active", "limit", "page"]),
    ];
    for (query, fields) in cases {
        let answer = app.internal("GET", &format!("{MITRAS}?{query}"), Some(&admin), None).await;
        assert_validation(&answer, &fields);
    }
    // The bounds themselves are fine.
    let data = page(&app, &admin, "page=1&limit=100&is_active=false").await;
    assert_eq!((&data["page"], &data["limit"]), (&json!(1), &json!(100)));
    assert_eq!(page(&app, &admin, "limit=1").await["limit"], 1);
}
