//! What a project can change about the analysis itself: which objects are
//! workloads, and which of them are not judged.

use crate::config::IgnoredObject;
use crate::kinds::WorkloadKinds;
use crate::objects::Workload;

/// The analysis options; the `Default` is the built-in behaviour.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    pub kinds: WorkloadKinds,
    pub ignored: Vec<IgnoredObject>,
}

impl Options {
    /// The built-in options (no project configuration), shared: building
    /// them allocates.
    pub fn builtin() -> &'static Options {
        &crate::kinds::DEFAULT_OPTIONS
    }

    /// The ignored-objects entry that covers a workload, if any.
    pub fn ignores(&self, workload: &Workload) -> Option<&IgnoredObject> {
        self.ignored.iter().find(|i| {
            i.matches(
                &workload.kind,
                workload.namespace.as_deref(),
                workload.name.as_deref(),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::{analyze, parse, parse_config, NoAccounts, Options};

    const ROLLOUT: &str = "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: canary}\nspec:\n  template:\n    spec:\n      containers: []\n";

    #[test]
    fn rollouts_and_deployment_configs_are_workloads_only_in_their_group() {
        assert_eq!(
            analyze(ROLLOUT, &NoAccounts, crate::Options::builtin()).len(),
            1
        );
        let wrong_group = ROLLOUT.replace("argoproj.io", "example.com");
        assert!(analyze(&wrong_group, &NoAccounts, crate::Options::builtin()).is_empty());
        let config = ROLLOUT
            .replace("argoproj.io/v1alpha1", "apps.openshift.io/v1")
            .replace("Rollout", "DeploymentConfig");
        let findings = analyze(&config, &NoAccounts, crate::Options::builtin());
        assert_eq!(findings.len(), 1);
        assert!(findings[0]
            .message
            .starts_with("DeploymentConfig \"canary\""));
        let core_group = config.replace("apps.openshift.io/v1", "v1");
        assert!(analyze(&core_group, &NoAccounts, crate::Options::builtin()).is_empty());
    }

    #[test]
    fn a_kind_from_the_configuration_is_judged_at_its_pod_spec() {
        let widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec:\n  runtime:\n    pod:\n      containers: []\n";
        assert!(analyze(widget, &NoAccounts, crate::Options::builtin()).is_empty());
        let options = parse_config(
            "[[workloads]]\ngroup = \"example.com\"\nkind = \"Widget\"\npod_spec = \"spec.runtime.pod\"\n",
        )
        .unwrap()
        .options();
        let findings = analyze(widget, &NoAccounts, &options);
        assert_eq!(findings.len(), 1);
        assert_eq!(
            &widget[findings[0].range.start..findings[0].range.end],
            "pod"
        );
        let other_group = widget.replace("example.com", "example.org");
        assert!(analyze(&other_group, &NoAccounts, &options).is_empty());
    }

    #[test]
    fn ignored_objects_get_no_finding_and_are_listed_apart() {
        let options = parse_config(
            "[[ignore]]\nobject = \"Rollout/*/can*\"\nreason = \"progressive delivery controller\"\n",
        )
        .unwrap()
        .options();
        assert!(analyze(ROLLOUT, &NoAccounts, &options).is_empty());
        let parsed = parse(ROLLOUT, &options);
        assert_eq!(parsed.ignored.len(), 1);
        assert_eq!(parsed.ignored[0].1, "Rollout/*/can*");
        let other = ROLLOUT.replace("canary", "stable");
        assert_eq!(analyze(&other, &NoAccounts, &options).len(), 1);
        assert_eq!(Options::default(), parse_config("").unwrap().options());
    }
}
