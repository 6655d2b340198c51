//! Role-based access control with casbin: the subject is the caller's role
//! (`anonymous` without a token), the object the matched route template, the
//! action the HTTP method. The policy is loaded and checked against the
//! router at start, so a route without a policy line, or a line naming a
//! route or role that does not exist, stops the server.

use std::collections::BTreeSet;
use std::path::Path;

use casbin::{CoreApi, DefaultModel, Enforcer, FileAdapter, MgmtApi};

pub const ANONYMOUS: &str = "anonymous";
/// Every role the policy may name.
const KNOWN_SUBJECTS: &[&str] = &[
    ANONYMOUS,
    "authenticated",
    "platform_admin",
    "tenant_admin",
    "data_scientist",
    "analyst",
    "viewer",
];

#[derive(Debug, thiserror::Error)]
pub enum RbacError {
    #[error("loading the casbin policy from {dir}: {source}")]
    Load {
        dir: String,
        #[source]
        source: casbin::Error,
    },
    #[error("policy line `p, {0}` names an unknown role")]
    UnknownSubject(String),
    #[error("policy line `p, {0}, {1}` names a route the server does not have")]
    UnknownRoute(String, String),
    #[error("route {1} {0} has no policy line; add one to policies/policy.csv")]
    Uncovered(String, String),
    #[error("casbin failed to evaluate a request: {0}")]
    Enforce(#[from] casbin::Error),
}

pub struct Rbac {
    enforcer: Enforcer,
}

impl std::fmt::Debug for Rbac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rbac").finish_non_exhaustive()
    }
}

impl Rbac {
    /// Loads `model.conf` and `policy.csv` from `dir` and checks the policy
    /// against `routes` (path template, upper-case method).
    pub async fn load(dir: &Path, routes: &BTreeSet<(String, String)>) -> Result<Self, RbacError> {
        let load_error = |source| RbacError::Load {
            dir: dir.display().to_string(),
            source,
        };
        let model = DefaultModel::from_file(dir.join("model.conf"))
            .await
            .map_err(load_error)?;
        let adapter = FileAdapter::new(dir.join("policy.csv"));
        let enforcer = Enforcer::new(model, adapter).await.map_err(load_error)?;
        let rbac = Self { enforcer };
        rbac.check_against(routes)?;
        Ok(rbac)
    }

    fn check_against(&self, routes: &BTreeSet<(String, String)>) -> Result<(), RbacError> {
        let mut covered = BTreeSet::new();
        for line in self.enforcer.get_policy() {
            let [sub, obj, act] = line.as_slice() else {
                return Err(RbacError::UnknownSubject(line.join(", ")));
            };
            if !KNOWN_SUBJECTS.contains(&sub.as_str()) {
                return Err(RbacError::UnknownSubject(sub.clone()));
            }
            let route = (obj.clone(), act.clone());
            if !routes.contains(&route) {
                return Err(RbacError::UnknownRoute(obj.clone(), act.clone()));
            }
            covered.insert(route);
        }
        for line in self.enforcer.get_grouping_policy() {
            if let Some(unknown) = line.iter().find(|s| !KNOWN_SUBJECTS.contains(&s.as_str())) {
                return Err(RbacError::UnknownSubject(unknown.clone()));
            }
        }
        match routes.difference(&covered).next() {
            Some((path, method)) => Err(RbacError::Uncovered(path.clone(), method.clone())),
            None => Ok(()),
        }
    }

    /// Whether `subject` may call `method` on the route template `path`.
    pub fn allows(&self, subject: &str, path: &str, method: &str) -> Result<bool, RbacError> {
        Ok(self.enforcer.enforce((subject, path, method))?)
    }
}
