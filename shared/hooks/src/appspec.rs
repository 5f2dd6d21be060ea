//! The version a CodeDeploy Lambda deployment is moving an alias to, read from the
//! deployment's own AppSpec (`GetDeployment` → `revision`), so the hook always tests the
//! code being deployed rather than a version fixed when the hook was configured.
//!
//! A Lambda AppSpec (JSON or YAML) names exactly one function:
//!
//! ```yaml
//! version: 0.0
//! Resources:
//!   - orders:
//!       Type: AWS::Lambda::Function
//!       Properties: { Name: orders, Alias: live, CurrentVersion: "1", TargetVersion: "2" }
//! ```

use serde::Deserialize;
use std::collections::BTreeMap;

/// The function, alias and versions an AppSpec names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppSpecTarget {
    /// `Name`: a function name or ARN.
    pub function: String,
    /// `Alias`.
    pub alias: String,
    /// `TargetVersion`: the version the hook must test.
    pub target_version: String,
}

#[derive(Deserialize)]
struct AppSpec {
    #[serde(rename = "Resources")]
    resources: Vec<BTreeMap<String, Resource>>,
}

#[derive(Deserialize)]
struct Resource {
    #[serde(rename = "Type")]
    kind: String,
    #[serde(rename = "Properties")]
    properties: Properties,
}

#[derive(Deserialize)]
struct Properties {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Alias")]
    alias: String,
    // Versions are numbers in YAML written by hand (`TargetVersion: 2`) and strings in JSON.
    #[serde(rename = "TargetVersion")]
    target_version: serde_yaml::Value,
}

/// Reads the one Lambda function an AppSpec deploys; the error says what is wrong with it.
pub fn parse(content: &str) -> Result<AppSpecTarget, String> {
    let spec: AppSpec = serde_yaml::from_str(content)
        .map_err(|e| format!("the deployment's AppSpec is not a Lambda AppSpec: {e}"))?;
    let mut resources = spec.resources.into_iter().flat_map(BTreeMap::into_iter);
    let (name, resource) = match (resources.next(), resources.next()) {
        (Some(one), None) => one,
        (None, _) => return Err("the deployment's AppSpec names no resource".into()),
        (Some(_), Some(_)) => {
            return Err(
                "the deployment's AppSpec names more than one resource; a Lambda deployment has one"
                    .into(),
            );
        }
    };
    if resource.kind != "AWS::Lambda::Function" {
        return Err(format!(
            "resource {name} of the deployment's AppSpec is a {}, not an AWS::Lambda::Function",
            resource.kind
        ));
    }
    let target_version = match &resource.properties.target_version {
        serde_yaml::Value::String(s) => s.trim().to_string(),
        serde_yaml::Value::Number(n) => n.to_string(),
        _ => String::new(),
    };
    if target_version.is_empty() || !target_version.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "resource {name} of the deployment's AppSpec has TargetVersion {:?}: a published version number is needed",
            resource.properties.target_version
        ));
    }
    let function = resource.properties.name.trim().to_string();
    if function.is_empty() {
        return Err(format!(
            "resource {name} of the deployment's AppSpec has an empty Name"
        ));
    }
    Ok(AppSpecTarget {
        function,
        alias: resource.properties.alias,
        target_version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_json_and_yaml_appspecs() {
        let json = r#"{"version":0.0,"Resources":[{"orders":{"Type":"AWS::Lambda::Function","Properties":{"Name":"orders","Alias":"live","CurrentVersion":"1","TargetVersion":"2"}}}]}"#;
        let yaml = "version: 0.0\nResources:\n  - orders:\n      Type: AWS::Lambda::Function\n      Properties:\n        Name: arn:aws:lambda:eu-west-1:123456789012:function:orders\n        Alias: live\n        CurrentVersion: 6\n        TargetVersion: 7\n";
        assert_eq!(
            parse(json),
            Ok(AppSpecTarget {
                function: "orders".into(),
                alias: "live".into(),
                target_version: "2".into()
            })
        );
        let target = parse(yaml).unwrap();
        assert_eq!(
            target.function,
            "arn:aws:lambda:eu-west-1:123456789012:function:orders"
        );
        assert_eq!(target.target_version, "7");
    }

    #[test]
    fn refuses_what_it_cannot_test() {
        for (content, problem) in [
            ("not: [an appspec", "not a Lambda AppSpec"),
            (r#"{"Resources":[]}"#, "names no resource"),
            (
                r#"{"Resources":[{"a":{"Type":"AWS::ECS::Service","Properties":{"Name":"x","Alias":"l","TargetVersion":"2"}}}]}"#,
                "not an AWS::Lambda::Function",
            ),
            (
                r#"{"Resources":[{"a":{"Type":"AWS::Lambda::Function","Properties":{"Name":"x","Alias":"l","TargetVersion":"$LATEST"}}}]}"#,
                "published version number",
            ),
            (
                r#"{"Resources":[{"a":{"Type":"AWS::Lambda::Function","Properties":{"Name":"x","Alias":"l","TargetVersion":"2"}}},{"b":{"Type":"AWS::Lambda::Function","Properties":{"Name":"y","Alias":"l","TargetVersion":"3"}}}]}"#,
                "more than one resource",
            ),
            (
                r#"{"Resources":[{"a":{"Type":"AWS::Lambda::Function","Properties":{"Name":" ","Alias":"l","TargetVersion":"2"}}}]}"#,
                "empty Name",
            ),
        ] {
            let error = parse(content).unwrap_err();
            assert!(error.contains(problem), "{content}: {error}");
        }
    }
}
