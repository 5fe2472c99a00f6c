//! The signing-key cache, against the certificate stand-in over HTTP.

use std::time::Duration;

use futures::future::join_all;
use infra::devtoken::{Minter, Persona};
use shared::clock::Clock;

use crate::helpers::PROJECT_ID;
use crate::verifier::{OTHER_KEY_PEM, verifier, verifier_at};

fn token() -> String {
    Minter::dev(PROJECT_ID).unwrap().token(&Persona::Anonymous { uid: "uid-cache".into() })
}

#[tokio::test]
async fn keys_are_cached_for_the_max_age_of_the_response() {
    let clock = Clock::manual();
    let (verifier, certs) = verifier_at(&clock, 60).await;
    let token = token();
    for _ in 0..5 {
        verifier.verify(&token).await.unwrap();
    }
    clock.advance(Duration::from_millis(59_999));
    verifier.verify(&token).await.unwrap();
    assert_eq!(certs.fetches(), 1);
    clock.advance(Duration::from_millis(1));
    certs.set_max_age(3600);
    verifier.verify(&token).await.unwrap();
    assert_eq!(certs.fetches(), 2);
    for _ in 0..5 {
        verifier.verify(&token).await.unwrap();
    }
    assert_eq!(certs.fetches(), 2);
}

#[tokio::test]
async fn fifty_concurrent_first_requests_make_one_fetch() {
    let (verifier, certs) = verifier().await;
    let token = token();
    let results = join_all((0..50).map(|_| verifier.verify(&token))).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(certs.fetches(), 1);
}

#[tokio::test]
async fn cached_keys_keep_working_when_the_endpoint_goes_down() {
    let clock = Clock::manual();
    let (verifier, certs) = verifier_at(&clock, 60).await;
    let token = token();
    verifier.verify(&token).await.unwrap();
    certs.set_up(false);
    clock.advance(Duration::from_secs(60));
    for _ in 0..20 {
        verifier.verify(&token).await.expect("stale keys still verify");
    }
    assert_eq!(certs.fetches(), 2, "one failed refresh, then no hammering during the outage");
}

#[tokio::test]
async fn forty_tokens_with_random_kids_cause_only_a_handful_of_fetches() {
    let (verifier, certs) = verifier().await;
    verifier.verify(&token()).await.unwrap();
    let forgeries: Vec<String> = (0..40)
        .map(|_| {
            let minter = Minter::new(OTHER_KEY_PEM, &uuid::Uuid::new_v4().to_string(), PROJECT_ID).unwrap();
            minter.token(&Persona::Anonymous { uid: "x".into() })
        })
        .collect();
    for forged in &forgeries {
        assert!(verifier.verify(forged).await.is_err());
    }
    let results = join_all(forgeries.iter().map(|t| verifier.verify(t))).await;
    assert!(results.iter().all(Result::is_err));
    assert!(certs.fetches() <= 3, "{} fetches", certs.fetches());
    verifier.verify(&token()).await.expect("the genuine key still works");
}

#[tokio::test]
async fn a_freshly_rotated_key_is_picked_up_on_its_first_use() {
    let (verifier, certs) = verifier().await;
    verifier.verify(&token()).await.unwrap();
    certs.insert("rotated-kid", include_str!("../fixtures/rotated-cert.pem"));
    let rotated = Minter::new(include_str!("../fixtures/rotated-key.pem"), "rotated-kid", PROJECT_ID).unwrap();
    let user = verifier.verify(&rotated.token(&Persona::Anonymous { uid: "after-rotation".into() })).await.unwrap();
    assert_eq!(user.uid, "after-rotation");
    assert_eq!(certs.fetches(), 2);
}
