//! The one authorization step: every route's caller is established here, from
//! the route's [`Access`] rule, before its handler runs.

use std::collections::HashMap;
use std::sync::Mutex;

use http::HeaderMap;
use uuid::Uuid;

use crate::app::App;
use crate::domain::{Email, Permissions};
use crate::error::ApiError;
use crate::firebase::{FirebaseUser, TokenError};
use crate::routes::{Access, Route};
use crate::store::audit::{Actor, Audit};
use crate::store::control_center_users::{ControlCenterUser, UidClaim};
use crate::store::roles::Role;

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

pub async fn authorize(app: &App, route: &Route, headers: &HeaderMap, request_id: &str) -> Result<Caller, ApiError> {
    let token = bearer(headers)?;
    let (access, token) = match (route.access, token) {
        (Access::Open, None) => return Ok(Caller::Nobody),
        (_, None) => {
            return Err(ApiError::Unauthorized("missing Authorization: Bearer <Firebase ID token>"));
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
                return Err(ApiError::Forbidden("your role does not allow this action"));
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
        Audit { table: &app.tables.audit_log, actor: Actor::from(self), request_id }
    }
}

fn bearer(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    // Two of them would otherwise be resolved silently, by whichever layer reads first.
    if headers.get_all(http::header::AUTHORIZATION).iter().count() > 1 {
        return Err(ApiError::Unauthorized("send one Authorization header"));
    }
    let Some(value) = headers.get(http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| ApiError::Unauthorized("malformed Authorization header"))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Ok(Some(token.trim()))
        }
        _ => Err(ApiError::Unauthorized("Authorization must be: Bearer <Firebase ID token>")),
    }
}

async fn verify(app: &App, token: &str) -> Result<FirebaseUser, ApiError> {
    app.verifier.verify(token).await.map_err(|e| match e {
        TokenError::Invalid(reason) => {
            tracing::info!(reason, "token rejected");
            ApiError::Unauthorized("invalid or expired Firebase ID token")
        }
        TokenError::KeysUnavailable(cause) => ApiError::Unavailable(cause),
    })
}

async fn control_center_user(
    app: &App,
    token: FirebaseUser,
    first_login: bool,
    request_id: &str,
) -> Result<ControlCenterCaller, ApiError> {
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
) -> Result<ControlCenterCaller, ApiError> {
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
                Some((user_id, user, role)) if user_id == claim.user_id => user.map(|user| (user, role)),
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
            ApiError::NotFound("no control-center account for this login")
        } else {
            ApiError::Forbidden("not a control-center user")
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
        ApiError::Forbidden("your role no longer exists")
    })?;
    app.hints.learn_role(role.id);
    Ok(ControlCenterCaller { token, user, role })
}

/// What this process resolved before, kept only to choose which items to read together
/// with the ones that decide: a hint is never believed without the read that confirms it.
/// Bounded, so a process serving many callers keeps a fixed size.
#[derive(Debug)]
pub struct Hints {
    /// Firebase uid → (control-center user id, role id), from each successful resolution.
    callers: Mutex<HashMap<String, (Uuid, Uuid)>>,
    /// Roles seen lately, most recent last: those a user acted on most likely holds.
    roles: Mutex<Vec<Uuid>>,
}

pub const CALLER_HINTS: usize = 1024;
pub const ROLE_HINTS: usize = 8;

impl Default for Hints {
    fn default() -> Self {
        // The seeded roles are the ones Phase 1's users hold.
        let seeded = [crate::seed::super_admin_role().id, crate::seed::operator_role().id];
        Self { callers: Mutex::default(), roles: Mutex::new(seeded.to_vec()) }
    }
}

impl Hints {
    fn caller(&self, uid: &str) -> Option<(Uuid, Uuid)> {
        self.callers.lock().unwrap_or_else(|e| e.into_inner()).get(uid).copied()
    }

    fn learn_caller(&self, uid: &str, user_id: Uuid, role_id: Uuid) {
        let mut callers = self.callers.lock().unwrap_or_else(|e| e.into_inner());
        if callers.len() >= CALLER_HINTS && !callers.contains_key(uid) {
            let evicted = callers.keys().next().cloned();
            if let Some(evicted) = evicted {
                callers.remove(&evicted);
            }
        }
        callers.insert(uid.to_owned(), (user_id, role_id));
    }

    /// (callers held, roles held).
    pub fn sizes(&self) -> (usize, usize) {
        (self.callers.lock().unwrap_or_else(|e| e.into_inner()).len(), self.roles().len())
    }

    fn forget_caller(&self, uid: &str) {
        self.callers.lock().unwrap_or_else(|e| e.into_inner()).remove(uid);
    }

    /// Roles worth reading beside a user whose role is not known yet.
    pub fn roles(&self) -> Vec<Uuid> {
        self.roles.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn learn_role(&self, id: Uuid) {
        let mut roles = self.roles.lock().unwrap_or_else(|e| e.into_inner());
        if roles.last() == Some(&id) {
            return;
        }
        roles.retain(|r| *r != id);
        if roles.len() >= ROLE_HINTS {
            roles.remove(0);
        }
        roles.push(id);
    }
}

/// A control-center user with their current role, and the role `also` names: the user and
/// the roles lately seen read in one consistent batch (the caller's own role, read in this
/// request, counts as one); the user's role, if not among them, is read after. A role is
/// `None` when it does not exist.
pub async fn user_with_role(
    app: &App,
    caller: &ControlCenterCaller,
    id: &Uuid,
    also: Option<&Uuid>,
) -> Result<(Option<(ControlCenterUser, Option<Role>)>, Option<Role>), crate::store::StoreError> {
    let mut wanted: Vec<Uuid> = app.hints.roles().into_iter().filter(|r| *r != caller.role.id).collect();
    if let Some(also) = also.filter(|r| **r != caller.role.id && !wanted.contains(r)) {
        wanted.push(*also);
    }
    let (user, mut roles) = app.control_center_users().by_id_with_roles(id, &app.tables.roles, &wanted).await?;
    roles.push(caller.role.clone());
    let find = |roles: &[Role], id: &Uuid| roles.iter().find(|r| r.id == *id).cloned();
    let also = also.and_then(|id| find(&roles, id));
    let Some(user) = user else { return Ok((None, also)) };
    let role = match find(&roles, &user.role_id) {
        Some(role) => Some(role),
        None if wanted.contains(&user.role_id) => None,
        None => app.roles().by_id(&user.role_id).await?,
    };
    if let Some(role) = &role {
        app.hints.learn_role(role.id);
    }
    Ok((Some((user, role)), also))
}

fn signed_out() -> ApiError {
    ApiError::Unauthorized("this session was revoked: sign in again")
}

/// A revoked session is a 401 (the app signs in again); a deactivated account a 403.
fn check_session(user: &ControlCenterUser, token: &FirebaseUser) -> Result<(), ApiError> {
    if user.tokens_valid_after.is_some_and(|after| token.auth_time < after) {
        return Err(signed_out());
    }
    if !user.is_active {
        return Err(ApiError::AccountInactive);
    }
    Ok(())
}

/// The claimed user, and the role the claim records, read side by side.
async fn user_and_role(app: &App, claim: UidClaim) -> Result<Option<(ControlCenterUser, Option<Role>)>, ApiError> {
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
) -> Result<Option<ControlCenterUser>, ApiError> {
    let email = match (&token.email, token.email_verified) {
        (Some(email), true) => Email::parse(email).ok(),
        _ => None,
    };
    let Some(email) = email else { return Ok(None) };
    let users = app.control_center_users();
    let Some(user) = users.by_email(&email).await? else {
        return Ok(None);
    };
    if user.firebase_uid.is_some() {
        return Ok(None);
    }
    check_session(&user, token)?;
    let audit = Audit { table: &app.tables.audit_log, actor: Actor::from(&user), request_id };
    if !users.bind_uid(&user, &token.uid, &audit).await? {
        return Ok(None);
    }
    tracing::info!(user_id = %user.id, "bound control-center user to its Firebase uid");
    Ok(Some(ControlCenterUser { firebase_uid: Some(token.uid.clone()), ..user }))
}

/// A caller may update, delete or revoke a user only when that user's current role is
/// within the caller's own permissions; a user whose role no longer exists holds none.
pub fn can_act_on(caller: &ControlCenterCaller, target_role: Option<&Role>) -> bool {
    target_role.is_none_or(|role| caller.role.permissions.includes(&role.permissions))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_keep_at_most_1024_callers_and_the_8_roles_seen_last() {
        let hints = Hints::default();
        let (user, role) = (Uuid::now_v7(), Uuid::now_v7());
        for i in 0..CALLER_HINTS + 10 {
            hints.learn_caller(&format!("uid-{i}"), user, role);
        }
        assert_eq!(hints.callers.lock().unwrap().len(), CALLER_HINTS);
        assert_eq!(hints.caller(&format!("uid-{}", CALLER_HINTS + 9)), Some((user, role)), "the newest is kept");
        hints.forget_caller(&format!("uid-{}", CALLER_HINTS + 9));
        assert_eq!(hints.caller(&format!("uid-{}", CALLER_HINTS + 9)), None);

        let seeded = hints.roles();
        assert_eq!(seeded, [crate::seed::super_admin_role().id, crate::seed::operator_role().id]);
        let seen: Vec<Uuid> = (0..10).map(|_| Uuid::now_v7()).collect();
        for id in &seen {
            hints.learn_role(*id);
        }
        hints.learn_role(seen[5]);
        let mut expected: Vec<Uuid> = seen[2..].iter().copied().filter(|id| *id != seen[5]).collect();
        expected.push(seen[5]);
        assert_eq!(hints.roles(), expected, "most recent last, each once");
    }
}
