//! Firebase ID-token verification: one test per rejection rule, each against keys
//! served over HTTP by the stand-in for Google's certificate endpoint.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use infra::certs::CertServer;
use infra::devtoken::{DEV_CERT_PEM, DEV_KID, Minter, Persona, now};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use shared::clock::Clock;
use shared::config::FirebaseConfig;
use shared::firebase::{FirebaseVerifier, TokenError};

use crate::helpers::PROJECT_ID;

pub const OTHER_KEY_PEM: &str = include_str!("../fixtures/other-key.pem");

pub fn firebase_config(certs_url: &str) -> FirebaseConfig {
    FirebaseConfig {
        project_id: PROJECT_ID.into(),
        certs_url: certs_url.into(),
        leeway: Duration::from_secs(60),
        unknown_kid_cooldown: Duration::from_secs(30),
        fetch_timeout: Duration::from_secs(2),
        accept_emulator_tokens: false,
    }
}

pub async fn cert_server(max_age: u64) -> Arc<CertServer> {
    CertServer::dev_key("127.0.0.1:0", max_age).await.unwrap()
}

pub async fn verifier() -> (FirebaseVerifier, Arc<CertServer>) {
    verifier_at(&Clock::system(), 3600).await
}

/// A verifier going by `clock`, whose keys come from its own certificate server, answering with `max_age`.
pub async fn verifier_at(clock: &Clock, max_age: u64) -> (FirebaseVerifier, Arc<CertServer>) {
    let certs = cert_server(max_age).await;
    (FirebaseVerifier::new(&firebase_config(certs.url())).unwrap().with_clock(clock.clone()), certs)
}

fn minter() -> Minter {
    Minter::dev(PROJECT_ID).unwrap()
}

fn phone_claims() -> Value {
    minter().claims(&Persona::PhoneCustomer { uid: "uid-1".into(), phone: "+6281234567890".into() })
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

#[track_caller]
fn assert_invalid(result: Result<shared::firebase::FirebaseUser, TokenError>) {
    assert!(matches!(result, Err(TokenError::Invalid(_))), "{result:?}");
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

#[tokio::test]
async fn a_valid_token_yields_the_uid_and_identity_claims() {
    let (verifier, _certs) = verifier().await;
    let user = verifier.verify(&minter().sign(&phone_claims())).await.unwrap();
    assert_eq!(user.uid, "uid-1");
    assert_eq!(user.phone_number.as_deref(), Some("+6281234567890"));
    assert_eq!(user.sign_in_provider.as_deref(), Some("phone"));
    assert!(!user.is_anonymous());
}

#[tokio::test]
async fn an_expired_token_is_rejected() {
    let (verifier, _certs) = verifier().await;
    assert_invalid(verifier.verify(&minter().sign(&with(phone_claims(), "exp", json!(now() - 120)))).await);
}

#[tokio::test]
async fn a_token_expired_within_the_leeway_is_still_accepted() {
    let (verifier, _certs) = verifier().await;
    assert!(verifier.verify(&minter().sign(&with(phone_claims(), "exp", json!(now() - 10)))).await.is_ok());
}

#[tokio::test]
async fn a_token_for_another_project_is_rejected() {
    let (verifier, _certs) = verifier().await;
    assert_invalid(verifier.verify(&minter().sign(&with(phone_claims(), "aud", json!("other-project")))).await);
    assert_invalid(verifier.verify(&minter().sign(&with(phone_claims(), "aud", json!([PROJECT_ID])))).await);
}

#[tokio::test]
async fn a_token_without_aud_is_rejected() {
    let (verifier, _certs) = verifier().await;
    let mut claims = phone_claims();
    claims.as_object_mut().unwrap().remove("aud");
    assert_invalid(verifier.verify(&minter().sign(&claims)).await);
}

#[tokio::test]
async fn a_token_from_another_issuer_is_rejected() {
    let (verifier, _certs) = verifier().await;
    for iss in [
        "https://securetoken.google.com/other",
        "https://securetoken.google.com/halobestie-test/",
        "https://evil.example/halobestie-test",
    ] {
        assert_invalid(verifier.verify(&minter().sign(&with(phone_claims(), "iss", json!(iss)))).await);
    }
}

#[tokio::test]
async fn an_alg_none_token_is_rejected_when_emulator_tokens_are_off() {
    let (verifier, _certs) = verifier().await;
    let token = format!("{}.{}.", b64(&json!({ "alg": "none", "kid": DEV_KID, "typ": "JWT" })), b64(&phone_claims()));
    assert_invalid(verifier.verify(&token).await);
}

#[tokio::test]
async fn an_emulator_token_is_accepted_only_when_explicitly_enabled() {
    let certs = cert_server(3600).await;
    let config = FirebaseConfig { accept_emulator_tokens: true, ..firebase_config(certs.url()) };
    let verifier = FirebaseVerifier::new(&config).unwrap();
    let token = format!("{}.{}.", b64(&json!({ "alg": "none", "typ": "JWT" })), b64(&phone_claims()));
    assert_eq!(verifier.verify(&token).await.unwrap().uid, "uid-1");
    let expired =
        format!("{}.{}.", b64(&json!({ "alg": "none" })), b64(&with(phone_claims(), "exp", json!(now() - 600))));
    assert_invalid(verifier.verify(&expired).await);
}

#[tokio::test]
async fn an_hs256_token_keyed_with_the_public_certificate_is_rejected() {
    let (verifier, _certs) = verifier().await;
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(DEV_KID.into());
    let token =
        jsonwebtoken::encode(&header, &phone_claims(), &EncodingKey::from_secret(DEV_CERT_PEM.as_bytes())).unwrap();
    assert_invalid(verifier.verify(&token).await);
}

#[tokio::test]
async fn a_token_with_an_unknown_kid_is_rejected() {
    let (verifier, _certs) = verifier().await;
    let token = Minter::new(OTHER_KEY_PEM, "unknown-kid", PROJECT_ID).unwrap().sign(&phone_claims());
    assert_invalid(verifier.verify(&token).await);
}

#[tokio::test]
async fn a_token_signed_by_another_key_under_a_trusted_kid_is_rejected() {
    let (verifier, _certs) = verifier().await;
    let token = Minter::new(OTHER_KEY_PEM, DEV_KID, PROJECT_ID).unwrap().sign(&phone_claims());
    assert_invalid(verifier.verify(&token).await);
}

#[tokio::test]
async fn a_token_without_a_kid_is_rejected() {
    let (verifier, _certs) = verifier().await;
    let key = EncodingKey::from_rsa_pem(infra::devtoken::DEV_KEY_PEM.as_bytes()).unwrap();
    let token = jsonwebtoken::encode(&Header::new(Algorithm::RS256), &phone_claims(), &key).unwrap();
    assert_invalid(verifier.verify(&token).await);
}

#[tokio::test]
async fn an_empty_sub_is_rejected() {
    let (verifier, _certs) = verifier().await;
    assert_invalid(verifier.verify(&minter().sign(&with(phone_claims(), "sub", json!("")))).await);
}

#[tokio::test]
async fn a_sub_of_129_characters_is_rejected_and_128_accepted() {
    let (verifier, _certs) = verifier().await;
    assert_invalid(verifier.verify(&minter().sign(&with(phone_claims(), "sub", json!("u".repeat(129))))).await);
    assert!(verifier.verify(&minter().sign(&with(phone_claims(), "sub", json!("u".repeat(128))))).await.is_ok());
}

#[tokio::test]
async fn a_token_issued_in_the_future_is_rejected() {
    let (verifier, _certs) = verifier().await;
    assert_invalid(verifier.verify(&minter().sign(&with(phone_claims(), "iat", json!(now() + 300)))).await);
}

#[tokio::test]
async fn a_token_with_a_future_auth_time_is_rejected() {
    let (verifier, _certs) = verifier().await;
    assert_invalid(verifier.verify(&minter().sign(&with(phone_claims(), "auth_time", json!(now() + 300)))).await);
}

#[tokio::test]
async fn a_payload_swapped_under_a_valid_signature_is_rejected() {
    let (verifier, _certs) = verifier().await;
    let genuine = minter().sign(&phone_claims());
    let parts: Vec<&str> = genuine.split('.').collect();
    let forged_claims = with(phone_claims(), "sub", json!("victim-uid"));
    let forged = format!("{}.{}.{}", parts[0], b64(&forged_claims), parts[2]);
    assert!(verifier.verify(&genuine).await.is_ok());
    assert_invalid(verifier.verify(&forged).await);
}

#[tokio::test]
async fn garbage_is_rejected_without_panicking() {
    let (verifier, _certs) = verifier().await;
    for token in ["", ".", "..", "a.b.c", "eyJhbGciOiJSUzI1NiJ9", "eyJ9.eyJ9.eyJ9", &"a".repeat(10_000)] {
        assert_invalid(verifier.verify(token).await);
    }
}

#[tokio::test]
async fn no_reachable_keys_is_keys_unavailable_not_invalid() {
    let certs = cert_server(3600).await;
    certs.set_up(false);
    let verifier = FirebaseVerifier::new(&firebase_config(certs.url())).unwrap();
    let result = verifier.verify(&minter().sign(&phone_claims())).await;
    assert!(matches!(result, Err(TokenError::KeysUnavailable(_))), "{result:?}");
}

#[tokio::test]
async fn a_key_outage_with_no_keys_answers_503_with_retry_after() {
    let app = crate::helpers::spawn_app().await;
    app.certs.set_up(false);
    let answer = app.public("GET", "/api/shared/config/anonymity", Some(&app.anonymous_token("a")), None).await;
    answer.assert_error(503, "SERVICE_UNAVAILABLE");
    assert_eq!(answer.headers.get("retry-after").unwrap(), "1");
    assert!(!answer.body.to_string().contains("127.0.0.1"), "{}", answer.body);
}

#[tokio::test]
async fn a_cached_token_is_refused_once_it_expires() {
    let clock = Clock::manual();
    let (verifier, _certs) = verifier_at(&clock, 3600).await;
    // Valid for two more seconds of the verifier's clock, the 60 s leeway included.
    let token = minter().sign(&with(phone_claims(), "exp", json!(clock.unix_secs() - 58)));
    verifier.verify(&token).await.unwrap();
    clock.advance(Duration::from_secs(1));
    verifier.verify(&token).await.expect("the same token again, from the cache");
    clock.advance(Duration::from_secs(1));
    assert_invalid(verifier.verify(&token).await);
}

#[tokio::test]
async fn a_cached_token_is_refused_once_its_key_is_replaced() {
    let clock = Clock::manual();
    let (verifier, certs) = verifier_at(&clock, 60).await;
    let token = minter().sign(&phone_claims());
    verifier.verify(&token).await.unwrap();
    verifier.verify(&token).await.expect("the same token again, from the cache");
    // Google now publishes another key under the same kid: the cached verdict must not outlive it.
    certs.insert(DEV_KID, include_str!("../fixtures/other-cert.pem"));
    clock.advance(Duration::from_secs(60));
    assert_invalid(verifier.verify(&token).await);
    assert_eq!(certs.fetches(), 2);
}
