//! template.yaml as the tests read it: JSON, through cfn-lint's own loader (the venv's), so the
//! short-form intrinsics (`!Ref`, `!Sub`, ...) come out as CloudFormation's `Ref` / `Fn::*`.

use serde_json::Value;

/// template.yaml as JSON (short-form tags as `Fn::*`), through cfn-lint's own YAML loader.
pub fn load() -> Value {
    let python = crate::moto::moto_server_path()
        .parent()
        .expect("the venv's bin directory")
        .join("python3");
    let path = crate::util::workspace_root().join("template.yaml");
    let output = std::process::Command::new(&python)
        .args([
            "-c",
            "import json, sys\nfrom cfnlint.decode import decode\ntemplate, problems = decode(sys.argv[1])\n\
             assert not problems, problems\njson.dump(template, sys.stdout)",
        ])
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", python.display()));
    assert!(
        output.status.success(),
        "cannot load template.yaml: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("template JSON")
}
