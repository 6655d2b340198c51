//! The deployment files in `deploy/`: the Kubernetes manifests against the
//! JSON schemas of pinned Kubernetes versions (kubernetes-validate, strict:
//! an unknown field is an error), the compose file against the Compose
//! specification's schema (the copy check-jsonschema ships), and both for
//! what no schema sees: that their names point at each other, that they run
//! `mmm migrate`, `mmm serve` and `mmm worker` as intended, that secrets and
//! metrics stay internal, and that they set only environment variables `mmm`
//! reads. The tools come from `tools/api-fuzz/requirements.txt`, installed by
//! `./dev.sh test` into the virtual environment named by `MMM_API_FUZZ_VENV`
//! (default `<workspace>/.tools/venv`); all of it runs offline.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The Kubernetes versions every manifest must be valid for: the oldest one
/// the manifests claim to support and the newest the pinned
/// kubernetes-validate (1.37.0) has schemas for.
const KUBERNETES_VERSIONS: [&str; 2] = ["1.34.0", "1.37.0"];

/// Variables `mmm` reads that the deployment files set, but that
/// `host/src` may not declare yet (they are being added beside these files).
const NOT_YET_DECLARED: [&str; 2] = ["MMM_METRICS_BIND", "MMM_CLIENT_IP_HEADER"];

/// The uid and gid the image runs as (Dockerfile `USER`), which the pods ask for.
const IMAGE_UID: i64 = 10001;

/// The image's data dir (Dockerfile `MMM_DATA_DIR`) and worker grace default.
const IMAGE_DATA_DIR: &str = "/var/lib/mmm/data";
const DEFAULT_GRACE_SECS: f64 = 60.0;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn deploy(path: &str) -> PathBuf {
    workspace().join("deploy").join(path)
}

/// A tool of the virtual environment; a missing one fails the test, since a
/// skipped check would pass while proving nothing.
fn tool(name: &str) -> PathBuf {
    let venv = std::env::var_os("MMM_API_FUZZ_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join(".tools/venv"));
    let path = venv.join("bin").join(name);
    assert!(
        path.is_file(),
        "{} is missing: run `./dev.sh test`, which installs tools/api-fuzz/requirements.txt \
         into {} (set MMM_API_FUZZ_VENV to use another virtual environment)",
        path.display(),
        venv.display(),
    );
    path
}

fn report(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mmm-deploy-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every file of deploy/k8s, the Secret template (`secrets.yaml.example`,
/// which `kubectl apply -f deploy/k8s/` skips) included.
fn k8s_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(deploy("k8s"))
        .expect("deploy/k8s")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "deploy/k8s has no files");
    files
}

/// The YAML documents of each file (empty ones left out), read by PyYAML.
fn yaml_documents(files: &[PathBuf]) -> Vec<Vec<Value>> {
    const SCRIPT: &str = "import json, sys, yaml; json.dump([[d for d in \
        yaml.safe_load_all(open(p, encoding='utf-8')) if d is not None] \
        for p in sys.argv[1:]], sys.stdout)";
    let output = Command::new(tool("python"))
        .arg("-c")
        .arg(SCRIPT)
        .args(files)
        .output()
        .expect("run python");
    assert!(
        output.status.success(),
        "reading the YAML failed:\n{}",
        report(&output)
    );
    serde_json::from_slice(&output.stdout).expect("python printed JSON")
}

/// kubernetes-validate in strict mode against every pinned version: passes
/// when it exits 0 and reports each resource as passed. The tool only warns,
/// and exits 0, about a kind or apiVersion it has no schema for, which would
/// let a misspelt one through: any line but a pass is a failure here.
/// Returns the number of passes.
fn kubernetes_validate(files: &[PathBuf]) -> Result<usize, String> {
    let mut command = Command::new(tool("kubernetes-validate"));
    command.arg("--strict");
    for version in KUBERNETES_VERSIONS {
        command.arg("--kubernetes-version").arg(version);
    }
    let output = command
        .args(files)
        .output()
        .expect("run kubernetes-validate");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let passes = stdout
        .lines()
        .filter(|line| line.starts_with("INFO ") && line.contains(" passed for resource "))
        .count();
    let others = stdout
        .lines()
        .filter(|line| !line.trim().is_empty())
        .count()
        - passes;
    if output.status.success() && others == 0 && output.stderr.is_empty() {
        Ok(passes)
    } else {
        Err(report(&output))
    }
}

/// check-jsonschema against its vendored Compose specification schema.
fn check_compose(file: &Path) -> Result<(), String> {
    let output = Command::new(tool("check-jsonschema"))
        .arg("--builtin-schema")
        .arg("vendor.compose-spec")
        .arg(file)
        .output()
        .expect("run check-jsonschema");
    if output.status.success() {
        Ok(())
    } else {
        Err(report(&output))
    }
}

#[test]
fn the_kubernetes_manifests_are_valid_for_the_pinned_versions() {
    let files = k8s_files();
    let documents: usize = yaml_documents(&files).iter().map(Vec::len).sum();
    match kubernetes_validate(&files) {
        Ok(passes) => assert_eq!(
            passes,
            documents * KUBERNETES_VERSIONS.len(),
            "kubernetes-validate checked fewer resources than deploy/k8s holds"
        ),
        Err(report) => {
            panic!("deploy/k8s is not valid for Kubernetes {KUBERNETES_VERSIONS:?}:\n{report}")
        }
    }
}

/// The validator as this test runs it refuses what it must: otherwise the
/// test above would pass while proving nothing.
#[test]
fn kubernetes_validate_refuses_unknown_fields_kinds_and_wrong_types() {
    let dir = scratch_dir("k8s-self-check");
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let good = write(
        "good.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: mmm}\ndata: {A: b}\n",
    );
    assert_eq!(kubernetes_validate(&[good]), Ok(KUBERNETES_VERSIONS.len()));
    let cases = [
        (
            "unknown field",
            "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {portz: []}\n",
        ),
        (
            "unknown kind",
            "apiVersion: v1\nkind: Servise\nmetadata: {name: x}\n",
        ),
        (
            "wrong type",
            "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {ports: [{port: http}]}\n",
        ),
    ];
    for (what, text) in cases {
        let file = write("bad.yaml", text);
        assert!(
            kubernetes_validate(&[file]).is_err(),
            "kubernetes-validate accepted a manifest with an {what}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_compose_file_follows_the_compose_spec() {
    let file = deploy("compose.yaml");
    if let Err(report) = check_compose(&file) {
        panic!("deploy/compose.yaml does not follow the Compose spec:\n{report}");
    }
    // And a misspelt key is caught (the schema is strict, through the
    // YAML merge keys the file uses).
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("stop_grace_period:"));
    let dir = scratch_dir("compose-self-check");
    let broken = dir.join("compose.yaml");
    std::fs::write(
        &broken,
        text.replace("stop_grace_period:", "stop_grace_periode:"),
    )
    .unwrap();
    assert!(
        check_compose(&broken).is_err(),
        "check-jsonschema accepted a misspelt compose key"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---- cross-references: the compose file -------------------------------

fn compose() -> Value {
    let mut files = yaml_documents(&[deploy("compose.yaml")]);
    assert_eq!(
        files[0].len(),
        1,
        "deploy/compose.yaml is one YAML document"
    );
    files[0].remove(0)
}

/// Names in a compose list-or-map (`depends_on`, `networks`).
fn names(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().expect("a name").to_owned())
            .collect(),
        Value::Object(map) => map.keys().cloned().collect(),
        Value::Null => Vec::new(),
        other => panic!("expected a list or a map of names, found {other}"),
    }
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// A compose service's `environment`, list or map; `None` for a name
/// without a value (passed on from the shell when set there).
fn compose_environment(service: &Value) -> BTreeMap<String, Option<String>> {
    match &service["environment"] {
        Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), scalar(v))).collect(),
        Value::Array(items) => items
            .iter()
            .map(|item| {
                let item = item.as_str().expect("NAME=value");
                match item.split_once('=') {
                    Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
                    None => (item.to_owned(), None),
                }
            })
            .collect(),
        Value::Null => BTreeMap::new(),
        other => panic!("environment must be a list or a map, found {other}"),
    }
}

/// A Go duration as compose takes it (`90s`, `1m30s`, `500ms`), in seconds.
fn duration_secs(text: &str) -> f64 {
    let mut total = 0.0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..digits]
            .parse()
            .unwrap_or_else(|_| panic!("bad duration {text:?}"));
        rest = &rest[digits..];
        let unit = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        total += number
            * match &rest[..unit] {
                "h" => 3600.0,
                "m" => 60.0,
                "s" => 1.0,
                "ms" => 0.001,
                other => panic!("bad duration unit {other:?} in {text:?}"),
            };
        rest = &rest[unit..];
    }
    total
}

/// `source:target[:mode]` or the long form, as (source, target).
fn compose_volume(volume: &Value) -> (String, String) {
    match volume {
        Value::String(short) => {
            let mut parts = short.splitn(3, ':');
            let source = parts.next().unwrap().to_owned();
            let target = parts.next().unwrap_or_default().to_owned();
            (source, target)
        }
        Value::Object(long) => (
            long["source"].as_str().unwrap_or_default().to_owned(),
            long["target"].as_str().expect("volume target").to_owned(),
        ),
        other => panic!("bad volume {other}"),
    }
}

/// nginx.conf without its comments.
fn nginx_conf() -> String {
    std::fs::read_to_string(deploy("nginx.conf"))
        .expect("deploy/nginx.conf")
        .lines()
        .map(|line| line.split('#').next().unwrap().trim())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_compose_services_fit_together() {
    let compose = compose();
    let services = compose["services"].as_object().expect("services");
    for name in [
        "postgres", "migrate", "api1", "api2", "worker1", "worker2", "lb",
    ] {
        assert!(services.contains_key(name), "no service {name}");
    }
    let declared = |section: &str| -> BTreeSet<String> {
        compose[section]
            .as_object()
            .map(|map| map.keys().cloned().collect())
            .unwrap_or_default()
    };
    let (volumes, networks, configs) = (
        declared("volumes"),
        declared("networks"),
        declared("configs"),
    );

    let mut used_volumes = BTreeSet::new();
    for (name, service) in services {
        for dependency in names(&service["depends_on"]) {
            assert!(
                services.contains_key(&dependency),
                "{name} depends on {dependency}, which is no service"
            );
        }
        for network in names(&service["networks"]) {
            assert!(
                networks.contains(&network),
                "{name}: undeclared network {network}"
            );
        }
        for config in service["configs"].as_array().into_iter().flatten() {
            let source = config
                .as_str()
                .or_else(|| config["source"].as_str())
                .expect("config source");
            assert!(
                configs.contains(source),
                "{name}: undeclared config {source}"
            );
        }
        for volume in service["volumes"].as_array().into_iter().flatten() {
            let (source, _) = compose_volume(volume);
            if source.starts_with('.') || source.starts_with('/') {
                assert!(
                    deploy(&source).exists(),
                    "{name} mounts {source}, which is not in deploy/"
                );
            } else if !source.is_empty() {
                assert!(
                    volumes.contains(&source),
                    "{name}: undeclared volume {source}"
                );
                used_volumes.insert(source);
            }
        }
        // Only the load balancer (and Prometheus' UI) publish ports:
        // PostgreSQL, the API servers' own ports and every metrics port stay
        // on the internal network.
        if service.get("ports").is_some() {
            assert!(
                ["lb", "prometheus"].contains(&name.as_str()),
                "{name} publishes ports"
            );
        }
    }
    assert_eq!(
        used_volumes, volumes,
        "declared volumes and used ones differ"
    );

    // The mmm services: one image built from the repository's Dockerfile,
    // the command each is for, the shared role passwords, the database.
    let image = services["migrate"]["image"]
        .as_str()
        .expect("migrate's image");
    let mut secret_volumes = BTreeSet::new();
    let mut serving = BTreeSet::new();
    for (name, service) in services {
        if service["image"].as_str() != Some(image) {
            assert!(
                service.get("build").is_none(),
                "{name} builds another image"
            );
            continue;
        }
        assert_eq!(service["build"]["context"], "..", "{name}: build context");
        let dockerfile = service["build"]["dockerfile"]
            .as_str()
            .unwrap_or("Dockerfile");
        assert!(
            workspace().join(dockerfile).is_file(),
            "{name}: no {dockerfile}"
        );
        let command = if name == "migrate" {
            "migrate"
        } else if name.starts_with("api") {
            serving.insert(name.clone());
            "serve"
        } else if name.starts_with("worker") {
            "worker"
        } else {
            panic!("{name} runs the mmm image but is neither migrate, api* nor worker*")
        };
        assert_eq!(
            service["command"],
            serde_json::json!([command]),
            "{name}: command"
        );

        let environment = compose_environment(service);
        let database = environment["DATABASE_URL"].clone().unwrap_or_default();
        assert!(
            database.starts_with("postgres://") && database.contains("@postgres:5432/"),
            "{name}: DATABASE_URL {database:?} is not the postgres service"
        );
        for (source, target) in service["volumes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(compose_volume)
        {
            if target == format!("{IMAGE_DATA_DIR}/secrets") {
                secret_volumes.insert(source);
            }
        }
        for network in names(&service["networks"]) {
            assert_eq!(
                compose["networks"][&network]["internal"], true,
                "{name} is on {network}, which is not internal"
            );
        }
        let dependency = if command == "migrate" {
            "postgres"
        } else {
            "migrate"
        };
        let condition = if command == "migrate" {
            "service_healthy"
        } else {
            "service_completed_successfully"
        };
        assert_eq!(
            service["depends_on"][dependency]["condition"], condition,
            "{name} must wait for {dependency}"
        );
        match command {
            "serve" => {
                let value = |key: &str| environment.get(key).cloned().flatten();
                assert_eq!(
                    value("MMM_WORKERS").as_deref(),
                    Some("0"),
                    "{name}: MMM_WORKERS"
                );
                assert!(value("MMM_JWT_SECRET").is_some(), "{name}: MMM_JWT_SECRET");
                assert_eq!(
                    value("MMM_CLIENT_IP_HEADER").as_deref(),
                    Some("x-real-ip"),
                    "{name}: the header nginx sets"
                );
            }
            "worker" => {
                let grace = environment
                    .get("MMM_WORKER_GRACE_SECS")
                    .cloned()
                    .flatten()
                    .map_or(DEFAULT_GRACE_SECS, |v| v.parse().unwrap());
                let stop = service["stop_grace_period"]
                    .as_str()
                    .map_or(10.0, duration_secs);
                assert!(
                    stop > grace,
                    "{name}: stop_grace_period {stop} s must exceed MMM_WORKER_GRACE_SECS {grace}"
                );
            }
            _ => {}
        }
    }
    assert_eq!(
        secret_volumes.len(),
        1,
        "every mmm service must mount the same volume at {IMAGE_DATA_DIR}/secrets: {secret_volumes:?}"
    );
    assert!(serving.len() >= 2, "at least two API servers");

    let postgres = &services["postgres"];
    assert!(
        postgres["image"]
            .as_str()
            .unwrap()
            .starts_with("postgres:15")
    );
    assert!(
        postgres["healthcheck"]["test"]
            .to_string()
            .contains("pg_isready"),
        "postgres needs a pg_isready healthcheck"
    );
    for network in names(&postgres["networks"]) {
        assert_eq!(
            compose["networks"][&network]["internal"], true,
            "postgres on {network}"
        );
    }

    // The load balancer: nginx with deploy/nginx.conf, round-robin over
    // exactly the API servers, on 8080, setting X-Real-IP itself.
    let lb = &services["lb"];
    assert_eq!(lb["image"], "nginx:stable");
    assert!(
        lb["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .map(compose_volume)
            .any(|(source, target)| source == "./nginx.conf" && target == "/etc/nginx/nginx.conf"),
        "lb must mount ./nginx.conf as /etc/nginx/nginx.conf"
    );
    assert_eq!(
        names(&lb["depends_on"])
            .into_iter()
            .collect::<BTreeSet<_>>(),
        serving,
        "lb must wait for the API servers"
    );
    assert!(
        lb["ports"].to_string().contains(":8080\""),
        "lb must publish port 8080"
    );
    let conf = nginx_conf();
    let upstream = conf
        .lines()
        .find_map(|line| line.strip_prefix("upstream "))
        .and_then(|rest| rest.split_whitespace().next())
        .expect("nginx.conf has an upstream");
    let upstream_servers: BTreeSet<String> = conf
        .lines()
        .filter_map(|line| line.strip_prefix("server "))
        .filter(|rest| !rest.starts_with('{'))
        .map(|rest| {
            let address = rest.split([' ', ';']).next().unwrap();
            let host = address.strip_suffix(":8080").unwrap_or_else(|| {
                panic!("nginx upstream server {address} is not on the API port 8080")
            });
            host.to_owned()
        })
        .collect();
    assert_eq!(
        upstream_servers, serving,
        "nginx's upstream must be the API servers"
    );
    for line in conf.lines().filter(|line| line.starts_with("proxy_pass ")) {
        assert_eq!(
            line,
            format!("proxy_pass http://{upstream};"),
            "nginx proxies somewhere else"
        );
    }
    for directive in [
        "listen 8080;",
        "proxy_set_header X-Real-IP $remote_addr;",
        "location = /metrics {\nreturn 404;",
    ] {
        assert!(conf.contains(directive), "nginx.conf lacks `{directive}`");
    }

    // Every variable the file interpolates is required: unset, compose
    // stops with the message instead of starting with an empty secret.
    let text = std::fs::read_to_string(deploy("compose.yaml")).unwrap();
    for (at, _) in text.match_indices("${") {
        let expression = &text[at..at + text[at..].find('}').expect("closing brace")];
        assert!(
            expression.contains(":?"),
            "`{expression}}}` has no `:?message`: an unset value must fail loudly"
        );
    }
}

// ---- cross-references: the Kubernetes manifests -----------------------

fn k8s_objects() -> Vec<Value> {
    yaml_documents(&k8s_files()).into_iter().flatten().collect()
}

fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> Option<&'a Value> {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
}

fn selects(selector: &Value, labels: &Value) -> bool {
    selector
        .as_object()
        .is_none_or(|wanted| wanted.iter().all(|(k, v)| &labels[k] == v))
}

/// A workload's pod: its owner, the `app.kubernetes.io/component` label,
/// the pod template's labels and spec.
struct Pod<'a> {
    owner: String,
    component: String,
    labels: &'a Value,
    spec: &'a Value,
}

impl Pod<'_> {
    fn container(&self) -> &Value {
        let containers = self.spec["containers"].as_array().expect("containers");
        assert_eq!(containers.len(), 1, "{}: one container", self.owner);
        &containers[0]
    }

    /// A port the container declares, named by number or by name.
    fn port(&self, port: &Value) -> Option<i64> {
        let ports = self.container()["ports"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let declared = match port {
            Value::Number(_) => ports.iter().find(|p| &p["containerPort"] == port),
            Value::String(name) => ports.iter().find(|p| p["name"] == name.as_str()),
            _ => None,
        };
        declared.and_then(|p| p["containerPort"].as_i64())
    }

    /// The container's environment with the ConfigMaps it takes whole.
    fn environment(&self, objects: &[Value]) -> BTreeMap<String, Value> {
        let container = self.container();
        let mut environment = BTreeMap::new();
        for source in container["envFrom"].as_array().into_iter().flatten() {
            let (kind, reference) = if source["configMapRef"].is_object() {
                ("ConfigMap", &source["configMapRef"])
            } else {
                ("Secret", &source["secretRef"])
            };
            let name = reference["name"].as_str().expect("envFrom name");
            let object = find(objects, kind, name)
                .unwrap_or_else(|| panic!("{}: envFrom names no {kind} {name}", self.owner));
            for section in ["data", "stringData"] {
                for (key, value) in object[section].as_object().into_iter().flatten() {
                    environment.insert(key.clone(), value.clone());
                }
            }
        }
        for variable in container["env"].as_array().into_iter().flatten() {
            let name = variable["name"].as_str().expect("env name").to_owned();
            environment.insert(name, variable["value"].clone());
        }
        environment
    }
}

fn pods(objects: &[Value]) -> Vec<Pod<'_>> {
    objects
        .iter()
        .filter(|o| o["kind"] == "Deployment" || o["kind"] == "Job")
        .map(|o| {
            let template = &o["spec"]["template"];
            let owner = format!(
                "{}/{}",
                o["kind"].as_str().unwrap(),
                o["metadata"]["name"].as_str().unwrap()
            );
            if o["kind"] == "Deployment" {
                assert!(
                    selects(
                        &o["spec"]["selector"]["matchLabels"],
                        &template["metadata"]["labels"]
                    ),
                    "{owner}: its selector does not select its own pods"
                );
            }
            Pod {
                component: template["metadata"]["labels"]["app.kubernetes.io/component"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{owner}: no app.kubernetes.io/component label"))
                    .to_owned(),
                owner,
                labels: &template["metadata"]["labels"],
                spec: &template["spec"],
            }
        })
        .collect()
}

fn secret_keys(secret: &Value) -> BTreeSet<String> {
    ["data", "stringData"]
        .iter()
        .flat_map(|section| secret[*section].as_object().into_iter().flatten())
        .map(|(key, _)| key.clone())
        .collect()
}

fn metrics_port(environment: &BTreeMap<String, Value>) -> i64 {
    environment
        .get("MMM_METRICS_BIND")
        .and_then(Value::as_str)
        .and_then(|bind| bind.rsplit_once(':'))
        .and_then(|(_, port)| port.parse().ok())
        .unwrap_or(9464)
}

#[test]
fn the_kubernetes_objects_fit_together() {
    let objects = k8s_objects();
    let namespaces: Vec<&Value> = objects
        .iter()
        .filter(|o| o["kind"] == "Namespace")
        .collect();
    assert_eq!(namespaces.len(), 1, "one Namespace");
    let namespace = &namespaces[0]["metadata"]["name"];
    for object in &objects {
        if object["kind"] != "Namespace" {
            assert_eq!(
                &object["metadata"]["namespace"], namespace,
                "{} {} is not in the namespace",
                object["kind"], object["metadata"]["name"]
            );
        }
    }
    let dockerfile = std::fs::read_to_string(workspace().join("Dockerfile")).unwrap();
    assert!(
        dockerfile.contains(&format!("USER {IMAGE_UID}:{IMAGE_UID}")),
        "the Dockerfile no longer runs as {IMAGE_UID}, which the pods ask for"
    );

    let pods = pods(&objects);
    let components: BTreeSet<&str> = pods.iter().map(|p| p.component.as_str()).collect();
    assert_eq!(components, BTreeSet::from(["api", "migrate", "worker"]));
    let image = pods[0].container()["image"].clone();
    for pod in &pods {
        let owner = &pod.owner;
        let container = pod.container();
        assert_eq!(
            container["image"], image,
            "{owner}: every pod runs the one mmm image"
        );
        let command = match pod.component.as_str() {
            "migrate" => "migrate",
            "api" => "serve",
            _ => "worker",
        };
        assert_eq!(
            container["args"],
            serde_json::json!([command]),
            "{owner}: args"
        );
        assert_eq!(
            owner.starts_with("Job/"),
            command == "migrate",
            "{owner}: migrate is the Job"
        );

        // Non-root, read-only root filesystem, nothing extra.
        let pod_security = &pod.spec["securityContext"];
        assert_eq!(pod_security["runAsNonRoot"], true, "{owner}: runAsNonRoot");
        assert_eq!(pod_security["runAsUser"], IMAGE_UID, "{owner}: runAsUser");
        assert_eq!(pod_security["runAsGroup"], IMAGE_UID, "{owner}: runAsGroup");
        assert_eq!(
            pod.spec["automountServiceAccountToken"], false,
            "{owner}: no API token"
        );
        let security = &container["securityContext"];
        assert_eq!(
            security["readOnlyRootFilesystem"], true,
            "{owner}: read-only root"
        );
        assert_eq!(
            security["allowPrivilegeEscalation"], false,
            "{owner}: privilege escalation"
        );
        assert_eq!(
            security["capabilities"]["drop"],
            serde_json::json!(["ALL"]),
            "{owner}: capabilities"
        );
        for bound in ["requests", "limits"] {
            for resource in ["cpu", "memory"] {
                assert!(
                    container["resources"][bound][resource].is_string(),
                    "{owner}: resources.{bound}.{resource}"
                );
            }
        }

        // Volumes, Secrets and ConfigMaps named exist.
        let volumes: BTreeMap<&str, &Value> = pod.spec["volumes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| (v["name"].as_str().unwrap(), v))
            .collect();
        for volume in volumes.values() {
            if let Some(name) = volume["secret"]["secretName"].as_str() {
                assert!(
                    find(&objects, "Secret", name).is_some(),
                    "{owner}: no Secret {name}"
                );
            }
            if let Some(name) = volume["configMap"]["name"].as_str() {
                assert!(
                    find(&objects, "ConfigMap", name).is_some(),
                    "{owner}: no ConfigMap {name}"
                );
            }
        }
        let mut mounts = BTreeMap::new();
        for mount in container["volumeMounts"].as_array().into_iter().flatten() {
            let name = mount["name"].as_str().unwrap();
            let volume = volumes
                .get(name)
                .unwrap_or_else(|| panic!("{owner} mounts {name}, which is no volume of its pod"));
            mounts.insert(
                mount["mountPath"].as_str().unwrap().to_owned(),
                (*volume, mount),
            );
        }
        for variable in container["env"].as_array().into_iter().flatten() {
            for (kind, reference) in [
                ("Secret", &variable["valueFrom"]["secretKeyRef"]),
                ("ConfigMap", &variable["valueFrom"]["configMapKeyRef"]),
            ] {
                let Some(name) = reference["name"].as_str() else {
                    continue;
                };
                let object = find(&objects, kind, name).unwrap_or_else(|| {
                    panic!("{owner}: {} names no {kind} {name}", variable["name"])
                });
                let key = reference["key"].as_str().unwrap();
                assert!(
                    reference["optional"] == true || secret_keys(object).contains(key),
                    "{owner}: {kind} {name} has no key {key}"
                );
            }
        }
        let environment = pod.environment(&objects);

        // The data dir is writable (an emptyDir: the root filesystem is
        // not), and the role passwords are one Secret at its secrets/.
        let data_dir = environment
            .get("MMM_DATA_DIR")
            .and_then(Value::as_str)
            .unwrap_or(IMAGE_DATA_DIR);
        for writable in [data_dir, "/tmp"] {
            let (volume, _) = mounts
                .get(writable)
                .unwrap_or_else(|| panic!("{owner}: nothing writable at {writable}"));
            assert!(
                volume["emptyDir"].is_object(),
                "{owner}: {writable} is no emptyDir"
            );
        }
        let (volume, mount) = mounts
            .get(&format!("{data_dir}/secrets"))
            .unwrap_or_else(|| panic!("{owner}: no role passwords at {data_dir}/secrets"));
        assert_eq!(
            mount["readOnly"], true,
            "{owner}: the role passwords are read-only"
        );
        let secret = find(
            &objects,
            "Secret",
            volume["secret"]["secretName"].as_str().unwrap(),
        )
        .unwrap();
        for key in ["mmm_app.password", "mmm_platform.password"] {
            assert!(
                secret_keys(secret).contains(key),
                "{owner}: the role Secret lacks {key}"
            );
        }
        assert!(
            secret_keys(secret).len() == 2,
            "{owner}: the role Secret holds only the two password files"
        );
        assert!(
            environment.contains_key("DATABASE_URL"),
            "{owner}: DATABASE_URL"
        );

        // Probes on ports that exist; the API's on /healthz and /readyz of
        // the API port, the worker's on its metrics port.
        for probe in ["startupProbe", "livenessProbe", "readinessProbe"] {
            let probe = &container[probe];
            for handler in ["httpGet", "tcpSocket"] {
                if probe[handler].is_object() {
                    assert!(
                        pod.port(&probe[handler]["port"]).is_some(),
                        "{owner}: a probe names port {}, which the container lacks",
                        probe[handler]["port"]
                    );
                }
            }
        }
        let probe = |name: &str| {
            let get = &container[name]["httpGet"];
            (
                get["path"].as_str().map(str::to_owned),
                pod.port(&get["port"]),
            )
        };
        let metrics = metrics_port(&environment);
        match command {
            "serve" => {
                assert_eq!(
                    probe("readinessProbe"),
                    (Some("/readyz".into()), Some(8080)),
                    "{owner}"
                );
                assert_eq!(
                    probe("livenessProbe"),
                    (Some("/healthz".into()), Some(8080)),
                    "{owner}"
                );
                assert_eq!(
                    environment["MMM_WORKERS"], "0",
                    "{owner}: analyses run in the workers"
                );
                assert!(
                    environment.contains_key("MMM_JWT_SECRET"),
                    "{owner}: MMM_JWT_SECRET"
                );
                assert_eq!(
                    pod.port(&"metrics".into()),
                    Some(metrics),
                    "{owner}: metrics port"
                );
            }
            "worker" => {
                assert_eq!(
                    probe("livenessProbe").1,
                    Some(metrics),
                    "{owner}: liveness on metrics"
                );
                assert_eq!(
                    pod.port(&"metrics".into()),
                    Some(metrics),
                    "{owner}: metrics port"
                );
                let grace = environment
                    .get("MMM_WORKER_GRACE_SECS")
                    .and_then(Value::as_str)
                    .map_or(DEFAULT_GRACE_SECS, |v| v.parse().unwrap());
                let termination = pod.spec["terminationGracePeriodSeconds"]
                    .as_f64()
                    .unwrap_or(30.0);
                assert!(
                    termination > grace,
                    "{owner}: terminationGracePeriodSeconds {termination} must exceed \
                     MMM_WORKER_GRACE_SECS {grace}"
                );
            }
            _ => {}
        }
    }
    let selected = |selector: &Value| -> Vec<&Pod> {
        pods.iter()
            .filter(|pod| selects(selector, pod.labels))
            .collect()
    };

    // Services select pods and target their ports; none mixes the API port
    // with a metrics port.
    for service in objects.iter().filter(|o| o["kind"] == "Service") {
        let name = &service["metadata"]["name"];
        let targets = selected(&service["spec"]["selector"]);
        assert!(!targets.is_empty(), "Service {name} selects no pod");
        let mut target_ports = BTreeSet::new();
        for port in service["spec"]["ports"].as_array().unwrap() {
            let target = if port["targetPort"].is_null() {
                &port["port"]
            } else {
                &port["targetPort"]
            };
            for pod in &targets {
                let resolved = pod.port(target);
                assert!(
                    resolved.is_some(),
                    "Service {name}: {} has no port {target}",
                    pod.owner
                );
                target_ports.insert(resolved);
            }
        }
        assert!(
            !(target_ports.contains(&Some(8080)) && target_ports.contains(&Some(9464))),
            "Service {name} exposes the API and the metrics port together"
        );
    }
    for pdb in objects
        .iter()
        .filter(|o| o["kind"] == "PodDisruptionBudget")
    {
        let owners: BTreeSet<&str> = selected(&pdb["spec"]["selector"]["matchLabels"])
            .iter()
            .map(|pod| pod.owner.as_str())
            .collect();
        assert_eq!(
            owners.len(),
            1,
            "PodDisruptionBudget {} covers {owners:?}",
            pdb["metadata"]["name"]
        );
        assert!(owners.iter().all(|o| o.starts_with("Deployment/")));
    }
    let budgets: BTreeSet<String> = objects
        .iter()
        .filter(|o| o["kind"] == "PodDisruptionBudget")
        .flat_map(|pdb| selected(&pdb["spec"]["selector"]["matchLabels"]))
        .map(|pod| pod.owner.clone())
        .collect();
    for pod in pods
        .iter()
        .filter(|pod| pod.owner.starts_with("Deployment/"))
    {
        assert!(
            budgets.contains(&pod.owner),
            "{} has no PodDisruptionBudget",
            pod.owner
        );
    }

    // The workers scale on the queue.
    let hpas: Vec<&Value> = objects
        .iter()
        .filter(|o| o["kind"] == "HorizontalPodAutoscaler")
        .collect();
    assert_eq!(hpas.len(), 1, "one HorizontalPodAutoscaler");
    let target = &hpas[0]["spec"]["scaleTargetRef"];
    assert_eq!(target["kind"], "Deployment");
    let scaled = find(&objects, "Deployment", target["name"].as_str().unwrap())
        .expect("the HPA scales a Deployment of these files");
    assert_eq!(
        scaled["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"],
        "worker"
    );
    assert!(
        hpas[0]["spec"]["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| {
                m["type"] == "External" && m["external"]["metric"]["name"] == "mmm_queue_depth"
            }),
        "the HPA must follow the External metric mmm_queue_depth"
    );

    // Network policies: everything denied unless allowed; the API port
    // open only to chosen peers, metrics only to Prometheus pods of a
    // chosen namespace.
    let policies: Vec<&Value> = objects
        .iter()
        .filter(|o| o["kind"] == "NetworkPolicy")
        .collect();
    assert!(
        policies.iter().any(|p| {
            p["spec"]["podSelector"] == serde_json::json!({})
                && p["spec"]["policyTypes"] == serde_json::json!(["Ingress", "Egress"])
                && p["spec"]["ingress"].is_null()
                && p["spec"]["egress"].is_null()
        }),
        "a default-deny NetworkPolicy"
    );
    for policy in &policies {
        let name = &policy["metadata"]["name"];
        let targets = selected(&policy["spec"]["podSelector"]["matchLabels"]);
        assert!(!targets.is_empty(), "NetworkPolicy {name} selects no pod");
        for rule in policy["spec"]["ingress"].as_array().into_iter().flatten() {
            let peers = rule["from"].as_array().cloned().unwrap_or_default();
            assert!(
                !peers.is_empty(),
                "NetworkPolicy {name} opens ports to everyone"
            );
            let ports = rule["ports"].as_array().cloned().unwrap_or_default();
            assert!(!ports.is_empty(), "NetworkPolicy {name} opens every port");
            for port in &ports {
                for pod in &targets {
                    let number = pod.port(&port["port"]);
                    assert!(
                        number.is_some(),
                        "NetworkPolicy {name}: {} has no port {}",
                        pod.owner,
                        port["port"]
                    );
                    if number == Some(metrics_port(&pod.environment(&objects))) {
                        assert!(
                            peers.iter().all(|peer| {
                                peer["namespaceSelector"].is_object()
                                    && peer["podSelector"].is_object()
                            }),
                            "NetworkPolicy {name}: metrics only for pods chosen in a chosen namespace"
                        );
                    }
                }
            }
        }
    }

    // The Ingress reaches the API port of an existing Service, never metrics.
    for ingress in objects.iter().filter(|o| o["kind"] == "Ingress") {
        for rule in ingress["spec"]["rules"].as_array().into_iter().flatten() {
            for path in rule["http"]["paths"].as_array().into_iter().flatten() {
                let backend = &path["backend"]["service"];
                let service = find(&objects, "Service", backend["name"].as_str().unwrap())
                    .unwrap_or_else(|| panic!("the Ingress names no Service {}", backend["name"]));
                let port = service["spec"]["ports"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|p| {
                        p["name"] == backend["port"]["name"]
                            || p["port"] == backend["port"]["number"]
                    })
                    .unwrap_or_else(|| {
                        panic!(
                            "Service {} has no port {}",
                            backend["name"], backend["port"]
                        )
                    });
                assert_eq!(
                    port["port"], 8080,
                    "the Ingress must reach the API port only"
                );
            }
        }
    }
}

// ---- environment variables ---------------------------------------------

/// Every `env = "NAME"` of host/src: the variables `mmm` reads.
fn declared_variables() -> BTreeSet<String> {
    fn walk(dir: &Path, names: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, names);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for (at, found) in text.match_indices("env = \"") {
                    let rest = &text[at + found.len()..];
                    names.insert(rest[..rest.find('"').unwrap()].to_owned());
                }
            }
        }
    }
    let mut names = BTreeSet::new();
    walk(&workspace().join("host/src"), &mut names);
    for known in ["DATABASE_URL", "MMM_BIND", "MMM_JWT_SECRET", "MMM_WORKERS"] {
        assert!(
            names.contains(known),
            "found no `env = \"{known}\"` in host/src"
        );
    }
    names
}

#[test]
fn the_deployment_files_set_only_variables_mmm_reads() {
    let known: BTreeSet<String> = declared_variables()
        .into_iter()
        .chain(NOT_YET_DECLARED.iter().map(|s| (*s).to_owned()))
        .collect();
    let mut unknown = BTreeSet::new();

    let compose = compose();
    let mmm_image = &compose["services"]["migrate"]["image"];
    for (name, service) in compose["services"].as_object().unwrap() {
        if &service["image"] == mmm_image {
            for variable in compose_environment(service).into_keys() {
                if !known.contains(&variable) {
                    unknown.insert(format!("compose.yaml service {name}: {variable}"));
                }
            }
        }
    }

    let objects = k8s_objects();
    for pod in pods(&objects) {
        for variable in pod.environment(&objects).into_keys() {
            if !known.contains(&variable) {
                unknown.insert(format!("k8s {}: {variable}", pod.owner));
            }
        }
    }
    // Every key of a ConfigMap is meant for the environment.
    for config in objects.iter().filter(|o| o["kind"] == "ConfigMap") {
        for variable in config["data"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
        {
            if !known.contains(variable) {
                unknown.insert(format!(
                    "k8s ConfigMap {}: {variable}",
                    config["metadata"]["name"]
                ));
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "variables that no `env = \"...\"` in host/src declares (a typo, or a setting \
         that does not exist):\n{}",
        unknown.into_iter().collect::<Vec<_>>().join("\n")
    );
}
