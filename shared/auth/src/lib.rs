//! The one authorization step: every route's caller is established here, from
//! the route's [`Access`] rule, before its handler runs.

use http::HeaderMap;
use uuid::Uuid;

pub mod app;
pub mod config;
pub mod firebase;
pub mod hints;
pub mod tls;

use halo_domain::roles::Role;
use halo_domain::{Email, Permission, Permissions};
use halo_store::StoreError;
use halo_store::audit::Audit;
use halo_store::change::Read;
use halo_store::control_center_users::{ControlCenterUser, UidClaim};

use crate::app::App;
use crate::firebase::{FirebaseUser, TokenError};

/// Who may call a route: the one rule the authorization step applies to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No token needed; a valid token, when sent, identifies the caller.
    Open,
    /// Any valid Firebase ID token.
    Token,
    /// A control-center user, bound by verified email on first login.
    ControlCenterLogin,
    /// A control-center user whose role grants this permission.
    ControlCenter(Permission),
}

/// Why a caller is not let through, as this layer knows it; the request pipeline gives each
/// its status (`shared::error`).
#[derive(Debug, thiserror::Error)]
pub enum Denied {
    /// No token, a malformed one, or one that is invalid, expired or revoked: 401.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// A valid token without the account or permission the route needs: 403.
    #[error("{0}")]
    Forbidden(&'static str),
    /// A first login that matches no control-center user: 404.
    #[error("{0}")]
    NoAccount(&'static str),
    /// The control-center user is deactivated: 403 `ACCOUNT_INACTIVE`.
    #[error("this control-center account is inactive")]
    Inactive,
    /// Firebase's signing keys cannot be had: 503.
    #[error("the token's signing keys are unavailable")]
    KeysUnavailable(#[source] anyhow::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Who is calling, as far as the route's rule required us to establish it.
#[derive(Debug, Clone)]
pub enum Caller {
    /// An open route called without a token.
    Nobody,
    User(FirebaseUser),
    ControlCenterUser(ControlCenterCaller),
}

#[derive(Debug, Clone)]
pub struct ControlCenterCaller {
    pub token: FirebaseUser,
    pub user: ControlCenterUser,
    pub role: Role,
}

impl Caller {
    pub fn uid(&self) -> Option<&str> {
        match self {
            Self::Nobody => None,
            Self::User(user) => Some(&user.uid),
            Self::ControlCenterUser(caller) => Some(&caller.token.uid),
        }
    }
}

pub async fn authorize(app: &App, access: Access, headers: &HeaderMap, request_id: &str) -> Result<Caller, Denied> {
    let token = bearer(headers)?;
    let (access, token) = match (access, token) {
        (Access::Open, None) => return Ok(Caller::Nobody),
        (_, None) => {
            return Err(Denied::Unauthenticated("missing Authorization: Bearer <Firebase ID token>"));
        }
        (access, Some(token)) => (access, token),
    };
    let user = verify(app, token).await?;
    match access {
        Access::Open | Access::Token => Ok(Caller::User(user)),
        Access::ControlCenterLogin => {
            control_center_user(app, user, true, request_id).await.map(Caller::ControlCenterUser)
        }
        Access::ControlCenter(permission) => {
            let caller = control_center_user(app, user, false, request_id).await?;
            if !caller.role.permissions.allows(permission) {
                tracing::info!(%permission, role = %caller.role.name, "permission denied");
                return Err(Denied::Forbidden("your role does not allow this action"));
            }
            Ok(Caller::ControlCenterUser(caller))
        }
    }
}

/// A control-center user may only grant a role whose permissions are a subset of their own;
/// and may act on (update, delete, revoke) only a user whose role is such a subset.
pub fn can_grant(granter: &ControlCenterCaller, role_permissions: &Permissions) -> bool {
    granter.role.permissions.includes(role_permissions)
}

impl ControlCenterCaller {
    /// The audit context of this caller's changes in one request.
    pub fn audit<'a>(&self, app: &'a App, request_id: &'a str) -> Audit<'a> {
        Audit { table: &app.tables.audit_log, actor: self.user.actor(), request_id }
    }
}

fn bearer(headers: &HeaderMap) -> Result<Option<&str>, Denied> {
    // Two of them would otherwise be resolved silently, by whichever layer reads first.
    if headers.get_all(http::header::AUTHORIZATION).iter().count() > 1 {
        return Err(Denied::Unauthenticated("send one Authorization header"));
    }
    let Some(value) = headers.get(http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| Denied::Unauthenticated("malformed Authorization header"))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Ok(Some(token.trim()))
        }
        _ => Err(Denied::Unauthenticated("Authorization must be: Bearer <Firebase ID token>")),
    }
}

async fn verify(app: &App, token: &str) -> Result<FirebaseUser, Denied> {
    app.verifier.verify(token).await.map_err(|e| match e {
        TokenError::Invalid(reason) => {
            tracing::info!(reason, "token rejected");
            Denied::Unauthenticated("invalid or expired Firebase ID token")
        }
        TokenError::KeysUnavailable(cause) => Denied::KeysUnavailable(cause),
    })
}

async fn control_center_user(
    app: &App,
    token: FirebaseUser,
    first_login: bool,
    request_id: &str,
) -> Result<ControlCenterCaller, Denied> {
    let uid = token.uid.clone();
    let resolved = resolve(app, token, first_login, request_id).await;
    match &resolved {
        Ok(caller) => app.hints.learn_caller(&uid, caller.user.id, caller.role.id),
        Err(_) => app.hints.forget_caller(&uid),
    }
    resolved
}

async fn resolve(
    app: &App,
    token: FirebaseUser,
    first_login: bool,
    request_id: &str,
) -> Result<ControlCenterCaller, Denied> {
    let users = app.control_center_users();
    // With a hint, the user and role it names are read in the same batch as the claim; the
    // claim still decides whose the uid is, and the user which role they hold.
    let (claim, guessed) = match app.hints.caller(&token.uid) {
        Some((user_id, role_id)) => {
            let (claim, user, role) = users.uid_claim_with(&token.uid, &user_id, &app.tables.roles, &role_id).await?;
            (claim, Some((user_id, user, role)))
        }
        None => (users.uid_claim(&token.uid).await?, None),
    };
    let found = match claim {
        // A revoked binding: the marker refuses the sessions it ended on this same read.
        Some(UidClaim { revoked_before: Some(before), .. }) => {
            if token.auth_time < before {
                return Err(signed_out());
            }
            None
        }
        Some(claim) => {
            let found = match guessed {
                Some((user_id, user, role)) if user_id == claim.user_id => user.map(|user| (user.value, role)),
                _ => user_and_role(app, claim).await?,
            };
            found.filter(|(user, _)| user.firebase_uid.as_deref() == Some(&token.uid))
        }
        None => None,
    };
    let found = match found {
        Some(found) => Some(found),
        None if first_login => bind_by_verified_email(app, &token, request_id).await?.map(|user| (user, None)),
        None => None,
    };
    let Some((user, role)) = found else {
        return Err(if first_login {
            Denied::NoAccount("no control-center account for this login")
        } else {
            Denied::Forbidden("not a control-center user")
        });
    };
    check_session(&user, &token)?;
    // The user's own role_id decides; a role read on the claim's or a hint's word is used only if it agrees.
    let role = match role {
        Some(role) if role.id == user.role_id => Some(role),
        _ => app.roles().by_id(&user.role_id).await?,
    };
    let role = role.ok_or_else(|| {
        tracing::error!(user_id = %user.id, role_id = %user.role_id, "control-center user has a role that does not exist");
        Denied::Forbidden("your role no longer exists")
    })?;
    app.hints.learn_role(role.id);
    Ok(ControlCenterCaller { token, user, role })
}

/// A control-center user as read (for a change of it) with their current role, and the role
/// `also` names: the user and the roles lately seen read in one consistent batch (the
/// caller's own role, read in this request, counts as one); the user's role, if not among
/// them, is read after. A role is `None` when it does not exist.
pub async fn user_with_role(
    app: &App,
    caller: &ControlCenterCaller,
    id: &Uuid,
    also: Option<&Uuid>,
) -> Result<(Option<(Read<ControlCenterUser>, Option<Role>)>, Option<Role>), StoreError> {
    let mut wanted: Vec<Uuid> = app.hints.roles().into_iter().filter(|r| *r != caller.role.id).collect();
    if let Some(also) = also.filter(|r| **r != caller.role.id && !wanted.contains(r)) {
        wanted.push(*also);
    }
    let (user, mut roles) = app.control_center_users().by_id_with_roles(id, &app.tables.roles, &wanted).await?;
    roles.push(caller.role.clone());
    let find = |roles: &[Role], id: &Uuid| roles.iter().find(|r| r.id == *id).cloned();
    let also = also.and_then(|id| find(&roles, id));
    let Some(user) = user else { return Ok((None, also)) };
    let role_id = user.value.role_id;
    let role = match find(&roles, &role_id) {
        Some(role) => Some(role),
        None if wanted.contains(&role_id) => None,
        None => app.roles().by_id(&role_id).await?,
    };
    if let Some(role) = &role {
        app.hints.learn_role(role.id);
    }
    Ok((Some((user, role)), also))
}

fn signed_out() -> Denied {
    Denied::Unauthenticated("this session was revoked: sign in again")
}

/// A revoked session is a 401 (the app signs in again); a deactivated account a 403.
fn check_session(user: &ControlCenterUser, token: &FirebaseUser) -> Result<(), Denied> {
    if user.tokens_valid_after.is_some_and(|after| token.auth_time < after) {
        return Err(signed_out());
    }
    if !user.is_active {
        return Err(Denied::Inactive);
    }
    Ok(())
}

/// The claimed user, and the role the claim records, read side by side.
async fn user_and_role(app: &App, claim: UidClaim) -> Result<Option<(ControlCenterUser, Option<Role>)>, Denied> {
    let (users, roles) = (app.control_center_users(), app.roles());
    let (user, role) = match claim.role_id {
        Some(role_id) => tokio::try_join!(users.by_id(&claim.user_id), roles.by_id(&role_id))?,
        None => (users.by_id(&claim.user_id).await?, None),
    };
    Ok(user.map(|user| (user, role)))
}

/// On first login an unbound account is claimed by the token's email, only when Firebase
/// verified it, the account is active and the token was signed in after any revocation.
async fn bind_by_verified_email(
    app: &App,
    token: &FirebaseUser,
    request_id: &str,
) -> Result<Option<ControlCenterUser>, Denied> {
    let email = match (&token.email, token.email_verified) {
        (Some(email), true) => Email::parse(email).ok(),
        _ => None,
    };
    let Some(email) = email else { return Ok(None) };
    let users = app.control_center_users();
    let Some(read) = users.by_email(&email).await? else {
        return Ok(None);
    };
    let user = &read.value;
    if user.firebase_uid.is_some() {
        return Ok(None);
    }
    check_session(user, token)?;
    let audit = Audit { table: &app.tables.audit_log, actor: user.actor(), request_id };
    if !users.bind_uid(&read, &token.uid, &audit).await? {
        return Ok(None);
    }
    tracing::info!(user_id = %user.id, "bound control-center user to its Firebase uid");
    Ok(Some(ControlCenterUser { firebase_uid: Some(token.uid.clone()), ..read.value }))
}

/// A caller may update, delete or revoke a user only when that user's current role is
/// within the caller's own permissions; a user whose role no longer exists holds none.
pub fn can_act_on(caller: &ControlCenterCaller, target_role: Option<&Role>) -> bool {
    target_role.is_none_or(|role| caller.role.permissions.includes(&role.permissions))
}
