//! Idempotent preparation of a stage: tables, the anonymity parameter and the seed.

use anyhow::Context;
use shared::App;
use shared::domain::Email;

/// Local stages only: deployed tables belong to the SAM template.
pub async fn prepare_local(app: &App, super_admin_email: &str) -> anyhow::Result<()> {
    shared::store::schema::ensure_tables(&app.dynamo, &app.config.table_prefix).await.context("creating tables")?;
    app.anonymity.ensure_exists().await.context("creating the anonymity parameter")?;
    seed(app, super_admin_email).await
}

/// Roles and the first super admin; safe against any stage, any number of times.
pub async fn seed(app: &App, super_admin_email: &str) -> anyhow::Result<()> {
    let email = Email::parse(super_admin_email).map_err(|e| anyhow::anyhow!("SUPER_ADMIN_EMAIL {e}"))?;
    shared::seed::seed(app, &email).await.context("seeding roles and the super admin")
}
