//! What a warm process remembers of its callers, to choose what to read together.

use std::collections::HashMap;
use std::sync::Mutex;

use uuid::Uuid;

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
        let seeded = [halo_domain::roles::super_admin_role().id, halo_domain::roles::operator_role().id];
        Self { callers: Mutex::default(), roles: Mutex::new(seeded.to_vec()) }
    }
}

impl Hints {
    pub(crate) fn caller(&self, uid: &str) -> Option<(Uuid, Uuid)> {
        self.callers.lock().unwrap_or_else(|e| e.into_inner()).get(uid).copied()
    }

    pub(crate) fn learn_caller(&self, uid: &str, user_id: Uuid, role_id: Uuid) {
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

    pub(crate) fn forget_caller(&self, uid: &str) {
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
        assert_eq!(seeded, [halo_domain::roles::super_admin_role().id, halo_domain::roles::operator_role().id]);
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
