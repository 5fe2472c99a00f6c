//! The two tables of the docs that restate the code, written by `halo-dev gen`: the README's
//! role table (from each route's access rule and the seeded roles' permissions) and
//! DEPLOYMENT.md's IAM table (from each function's `policy.yaml`).

use std::path::Path;

use anyhow::{Context, bail};
use shared::routes::{Access, Route};

/// One row per control-center route: the permission it asks for and which seeded role has it.
pub fn role_table(routes: &[Route]) -> String {
    let roles = shared::domain::roles::seeded_roles();
    let header: String = roles.iter().map(|role| format!(" {} |", role.name)).collect();
    let mut text = format!("| route | permission |{header}\n|---|---|{}\n", "---|".repeat(roles.len()));
    for route in routes {
        let (permission, granted): (String, Vec<bool>) = match route.access {
            Access::ControlCenterLogin => ("any active control-center user".into(), vec![true; roles.len()]),
            Access::ControlCenter(needed) => {
                (format!("`{needed}`"), roles.iter().map(|role| role.permissions.allows(needed)).collect())
            }
            Access::Open | Access::Token => continue,
        };
        let marks: String = granted.iter().map(|&yes| if yes { " ✓ |" } else { " ✗ |" }).collect();
        text.push_str(&format!("| `{} {}` | {permission} |{marks}\n", route.method, route.path));
    }
    text
}

/// One row per function: the DynamoDB tables and SSM actions its `policy.yaml` allows.
pub fn iam_table(root: &Path, routes: &[Route]) -> anyhow::Result<String> {
    let mut text = String::from("| function | DynamoDB | SSM |\n|---|---|---|\n");
    for route in routes {
        let file = format!("functions/{}/policy.yaml", route.name);
        let policy = std::fs::read_to_string(root.join(&file)).with_context(|| format!("reading {file}"))?;
        let grants = Grants::of(&statements(&policy).with_context(|| format!("reading {file}"))?)
            .with_context(|| format!("reading {file}"))?;
        text.push_str(&format!("| {} | {} | {} |\n", route.name, grants.dynamodb_cell(), grants.ssm.join(", ")));
    }
    Ok(text)
}

#[derive(Debug, Default, PartialEq)]
struct Statement {
    actions: Vec<String>,
    resources: Vec<String>,
}

/// The statements of a `policy.yaml` in the one shape the function crates write them:
/// `- Effect: Allow`, `Action: [a, b]`, and `Resource:` with one value or a list of them.
/// Anything else is refused, so the table never quietly misses a grant.
fn statements(policy: &str) -> anyhow::Result<Vec<Statement>> {
    let mut statements: Vec<Statement> = Vec::new();
    for line in policy.lines().filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty()) {
        let trimmed = line.trim();
        if let Some(effect) = trimmed.strip_prefix("- Effect:") {
            if effect.trim() != "Allow" {
                bail!("only Allow statements are expected, not {line:?}");
            }
            statements.push(Statement::default());
            continue;
        }
        let Some(statement) = statements.last_mut() else { bail!("{line:?} comes before any statement") };
        if let Some(list) = trimmed.strip_prefix("Action:") {
            let list = list.trim().strip_prefix('[').and_then(|l| l.strip_suffix(']'));
            let list = list.with_context(|| format!("Action is written as [a, b]: {line:?}"))?;
            statement.actions.extend(list.split(',').map(|a| a.trim().to_owned()));
        } else if let Some(resource) = trimmed.strip_prefix("Resource:") {
            statement.resources.extend(Some(resource.trim().to_owned()).filter(|r| !r.is_empty()));
        } else if let Some(resource) = trimmed.strip_prefix("- ") {
            statement.resources.push(resource.trim().to_owned());
        } else {
            bail!("unexpected line {line:?}");
        }
    }
    Ok(statements)
}

/// What a policy allows: DynamoDB actions per table (in the order they first appear) and SSM actions.
#[derive(Debug, Default)]
struct Grants {
    tables: Vec<(String, Vec<String>)>,
    ssm: Vec<String>,
}

impl Grants {
    fn of(statements: &[Statement]) -> anyhow::Result<Self> {
        let mut grants = Self::default();
        for statement in statements {
            for resource in &statement.resources {
                grants.add(resource, &statement.actions)?;
            }
        }
        Ok(grants)
    }

    fn add(&mut self, resource: &str, actions: &[String]) -> anyhow::Result<()> {
        let strip = |service: &str| -> anyhow::Result<Vec<String>> {
            let prefix = format!("{service}:");
            let names = actions.iter().map(|a| a.strip_prefix(&prefix).map(str::to_owned));
            names
                .collect::<Option<_>>()
                .with_context(|| format!("{actions:?} on {resource} are not all {service} actions"))
        };
        if resource.contains(":ssm:") {
            push_new(&mut self.ssm, strip("ssm")?);
            return Ok(());
        }
        let (table, on_indexes) = table_of(resource)?;
        let mut names = strip("dynamodb")?;
        if on_indexes {
            names.iter_mut().for_each(|name| name.push_str(" (indexes)"));
        }
        match self.tables.iter_mut().find(|(t, _)| *t == table) {
            Some((_, listed)) => push_new(listed, names),
            None => self.tables.push((table, names)),
        }
        Ok(())
    }

    /// `control-center-users, roles: GetItem, BatchGetItem; mitras: GetItem`: tables allowed
    /// the same actions share one entry.
    fn dynamodb_cell(&self) -> String {
        let mut entries: Vec<(Vec<&str>, &[String])> = Vec::new();
        for (table, actions) in &self.tables {
            match entries.iter_mut().find(|(_, same)| *same == actions.as_slice()) {
                Some((tables, _)) => tables.push(table),
                None => entries.push((vec![table], actions)),
            }
        }
        let entries: Vec<String> =
            entries.iter().map(|(tables, actions)| format!("{}: {}", tables.join(", "), actions.join(", "))).collect();
        entries.join("; ")
    }
}

fn push_new(listed: &mut Vec<String>, names: Vec<String>) {
    for name in names {
        if !listed.contains(&name) {
            listed.push(name);
        }
    }
}

/// `!GetAtt MitrasTable.Arn` → (`mitras`, false); `!Sub ${MitrasTable.Arn}/index/*` → (`mitras`, true).
fn table_of(resource: &str) -> anyhow::Result<(String, bool)> {
    let (logical_id, on_indexes) = if let Some(id) = resource.strip_prefix("!GetAtt ") {
        (id.strip_suffix(".Arn"), false)
    } else if let Some(sub) = resource.strip_prefix("!Sub ${") {
        (sub.strip_suffix(".Arn}/index/*"), true)
    } else {
        (None, false)
    };
    let table = logical_id
        .and_then(|id| shared::store::schema::ALL.iter().find(|t| format!("{}Table", pascal(t.suffix)) == id));
    match table {
        Some(table) => Ok((table.suffix.to_owned(), on_indexes)),
        None => bail!("{resource:?} is neither a table of shared::store::schema, its indexes, nor the SSM parameter"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = "# about the file
- Effect: Allow
  Action: [dynamodb:GetItem, dynamodb:BatchGetItem]
  Resource:
    - !GetAtt ControlCenterUsersTable.Arn
    - !GetAtt RolesTable.Arn
- Effect: Allow
  Action: [dynamodb:Query]
  Resource: !Sub ${RolesTable.Arn}/index/*
- Effect: Allow
  Action: [ssm:GetParameter]
  Resource: !Sub arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${AnonymityParameter}
";

    #[test]
    fn a_policy_becomes_its_tables_actions_with_equal_grants_sharing_one_entry() {
        let grants = Grants::of(&statements(POLICY).unwrap()).unwrap();
        assert_eq!(
            grants.dynamodb_cell(),
            "control-center-users: GetItem, BatchGetItem; roles: GetItem, BatchGetItem, Query (indexes)"
        );
        assert_eq!(grants.ssm, ["GetParameter"]);
    }

    #[test]
    fn a_policy_line_or_resource_the_table_cannot_show_is_refused() {
        let deny = POLICY.replacen("Effect: Allow", "Effect: Deny", 1);
        assert!(statements(&deny).unwrap_err().to_string().contains("only Allow"));
        let stray = format!("{POLICY}  Condition: {{}}\n");
        assert!(statements(&stray).unwrap_err().to_string().contains("unexpected line"));
        let bucket = POLICY.replace("!GetAtt RolesTable.Arn", "!GetAtt LogsBucket.Arn");
        assert!(Grants::of(&statements(&bucket).unwrap()).is_err());
        let mixed = POLICY.replace("[ssm:GetParameter]", "[ssm:GetParameter, dynamodb:GetItem]");
        assert!(Grants::of(&statements(&mixed).unwrap()).is_err());
    }

    #[test]
    fn the_role_table_marks_each_seeded_role_by_its_permissions_and_leaves_out_public_routes() {
        let table = role_table(&shared::routes::ALL);
        assert!(table.contains("| `DELETE /internal/mitras/{id}` | `mitra:delete` | ✓ | ✗ |"), "{table}");
        assert!(table.contains("| `POST /internal/mitras` | `mitra:create` | ✓ | ✓ |"), "{table}");
        assert!(!table.contains("/api/"), "{table}");
    }
}

/// `control-center-users-create` → `ControlCenterUsersCreate`.
pub fn pascal(name: &str) -> String {
    name.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect()
}
