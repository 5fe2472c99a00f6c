//! Firebase ID-token verification, µs per `verify`: a token seen for the first time
//! (signature check) and the same token again (the verified-token cache).

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use devkit::certs::CertServer;
use devkit::devtoken::{Minter, Persona};
use shared::config::FirebaseConfig;
use shared::firebase::FirebaseVerifier;

const PROJECT: &str = "halobestie-bench";
const FRESH_POOL: usize = 2000;

fn verify(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let certs = rt.block_on(CertServer::dev_key("127.0.0.1:0", 3600)).unwrap();
    let certs_url = certs.url().to_owned();
    let config = FirebaseConfig {
        project_id: PROJECT.into(),
        certs_url: certs_url.clone(),
        leeway: Duration::from_secs(60),
        unknown_kid_cooldown: Duration::from_secs(30),
        fetch_timeout: Duration::from_secs(3),
        accept_emulator_tokens: false,
    };
    let verifier = || {
        let verifier = FirebaseVerifier::new(&config).unwrap();
        rt.block_on(verifier.warm_up());
        verifier
    };
    let minter = Minter::dev(PROJECT).unwrap();
    // Distinct tokens, as distinct users send them (a phone sign-in carries the most claims).
    let fresh: Vec<String> = (0..FRESH_POOL)
        .map(|i| {
            minter.token(&Persona::PhoneCustomer {
                uid: format!("bench-user-{i:06}-aaaaaaaaaaaaaaaaaa"),
                phone: format!("+62812{i:08}"),
            })
        })
        .collect();

    let mut group = c.benchmark_group("verify");
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    group.sample_size(40);

    group.bench_function("fresh_token", |b| {
        b.iter_custom(|iters| {
            // Each token is verified once per verifier: every call is a first sight.
            let mut total = Duration::ZERO;
            let mut left = iters as usize;
            while left > 0 {
                let v = verifier();
                let n = left.min(FRESH_POOL);
                total += rt.block_on(async {
                    let t = Instant::now();
                    for token in &fresh[..n] {
                        std::hint::black_box(v.verify(std::hint::black_box(token)).await.unwrap());
                    }
                    t.elapsed()
                });
                left -= n;
            }
            total
        })
    });

    let v = verifier();
    let token = &fresh[0];
    rt.block_on(v.verify(token)).unwrap();
    group.bench_function("repeated_token", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let t = Instant::now();
                for _ in 0..iters {
                    std::hint::black_box(v.verify(std::hint::black_box(token)).await.unwrap());
                }
                t.elapsed()
            })
        })
    });
    group.finish();
}

criterion_group!(benches, verify);
criterion_main!(benches);
