//! Idempotent seed: the two Phase 1 roles and the first super admin.

use anyhow::Context;

use crate::app::App;
use crate::domain::roles::{operator_role, super_admin_role};
use crate::domain::{DisplayName, Email};
use crate::store::StoreError;

/// Local stages: the tables, the anonymity parameter, then [`seed_super_admin`]. Deployed
/// tables belong to the SAM template.
pub async fn prepare_local(app: &App, super_admin_email: &str) -> anyhow::Result<()> {
    crate::store::schema::ensure_tables(&app.dynamo, &app.config.table_prefix).await.context("creating tables")?;
    app.anonymity.ensure_exists().await.context("creating the anonymity parameter")?;
    seed_super_admin(app, super_admin_email).await
}

/// [`seed`] with the super admin's email as configured (`SUPER_ADMIN_EMAIL`); safe against
/// any stage, any number of times.
pub async fn seed_super_admin(app: &App, super_admin_email: &str) -> anyhow::Result<()> {
    let email = Email::parse(super_admin_email).map_err(|e| anyhow::anyhow!("SUPER_ADMIN_EMAIL {e}"))?;
    seed(app, &email).await.context("seeding roles and the super admin")
}

/// Creates the roles (refreshing their permissions) and, if absent, the super admin.
pub async fn seed(app: &App, super_admin_email: &Email) -> Result<(), StoreError> {
    let roles = app.roles();
    let super_admin = super_admin_role();
    roles.upsert(&super_admin).await?;
    roles.upsert(&operator_role()).await?;
    let name = DisplayName::parse("Super Admin")
        .map_err(|e| StoreError::Failed(anyhow::anyhow!("the super admin's display name {e}")))?;
    let users = app.control_center_users();
    users.ensure_super_admin_count().await?;
    let created = users.create(super_admin_email, name, super_admin.id, None).await?;
    match created.value() {
        Some(user) => {
            tracing::info!(user_id = %user.id, email = %crate::telemetry::mask_email(super_admin_email.as_str()), "seeded the super admin")
        }
        None => tracing::info!("super admin already exists"),
    }
    Ok(())
}
