#!/usr/bin/env python3
"""The deployment files in deploy/ checked against the code, since no container engine runs here.

Parses deploy/docker-compose.yml and deploy/k8s/*.yaml with a real YAML parser (python3-yaml) and
the ConfigMap's triage.toml with tomllib, then checks that:
  - every config key they set is one config/triage.toml documents (the file the config tests hold
    to the loader), and every TRIAGE_* variable is such a key's variable or one the code reads;
  - the ports they name (containerPort, probes, Service targets, published ports) are the ones
    api.listen and admin.listen give, and the Kafka and Postgres endpoints match compose's services;
  - every `serve --roles` names roles Roles::Parse accepts, each role has its own service and
    Deployment, probes are /readyz and /healthz on the admin port, and the grace period is longer
    than shutdown.drain_seconds;
  - the KEDA ScaledObject scales the worker Deployment on the worker group and reasoning topic;
  - the migration Job and compose step run `triage migrate`;
  - the Dockerfile's COPY sources exist, its build stage installs install-deps' build packages,
    and its runtime packages provide every shared library `ldd` lists for the binary (dpkg -S).
Usage: deploy_test.py PROJECT_ROOT [TRIAGE_BINARY]. Prints each failure; exits 1 if any.
"""
import glob
import os
import re
import shlex
import subprocess
import sys
import tomllib

import yaml

ROOT = sys.argv[1]
BINARY = sys.argv[2] if len(sys.argv) > 2 else None
failures = []


def fail(message):
    failures.append(message)
    print("FAIL:", message)


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


# --- what the code accepts ----------------------------------------------------------------------

def leaves(table, prefix=""):
    for key, value in table.items():
        if isinstance(value, dict):
            yield from leaves(value, prefix + key + ".")
        else:
            yield prefix + key


DOC = read("config/triage.toml")
DOCUMENTED = set(leaves(tomllib.loads(DOC)))
# The per-model keys the file documents in comments ("Keys of every model").
MODEL_KEYS = set()
inside = False
for line in DOC.splitlines():
    if line.startswith("# Keys of every model"):
        inside = True
    elif inside and line == "#":
        break
    elif inside and re.match(r"#   [a-z_]+ = ", line):
        MODEL_KEYS.add(line[4:].split(" ")[0])
MODEL_KEYS |= {k.split(".", 2)[2] for k in DOCUMENTED if k.startswith("models.sim-standard.")}
assert len(MODEL_KEYS) > 20, "the per-model key block of config/triage.toml was not found"


def documented(key):
    if key in DOCUMENTED or key.startswith("kafka.properties."):
        return True
    parts = key.split(".", 2)
    return len(parts) == 3 and parts[0] == "models" and parts[2] in MODEL_KEYS


def env_name(key):
    return "TRIAGE_" + re.sub(r"[.-]", "_", key).upper()


CONFIG_SRC = read("src/app/config.cpp")
MAIN_SRC = read("src/app/main.cpp")
# Variables read under a name of their own: aliases in config.cpp and main.cpp's getenv calls
# (not the list of the scripts' own variables config.cpp knows not to warn of).
ENV_ALIASES = set(re.findall(r'(?:getenv\(|EnvVar\(|, )"(TRIAGE_[A-Z_]+)"\)', CONFIG_SRC + MAIN_SRC))
assert {"TRIAGE_PG_DSN", "TRIAGE_WEBHOOK_SECRET", "TRIAGE_LLAMA_URL"} <= ENV_ALIASES, ENV_ALIASES
ENV_KEYS = {env_name(k): k for k in DOCUMENTED}
# Provider keys: the variables a model reads by default (config/triage.toml, api_key_env).
PROVIDER_ENV = set(re.findall(r"empty: ([A-Z_]+_API_KEY) / ([A-Z_]+_API_KEY)", DOC)[0])
ROLES = set(re.findall(r'name == "([a-z]+)"', read("src/app/pipeline.cpp")))
assert ROLES == {"api", "router", "worker", "notifier"}, ROLES


def check_env(where, name):
    if name.startswith("TRIAGE_"):
        if name not in ENV_KEYS and name not in ENV_ALIASES:
            fail(f"{where}: {name} is neither a documented key's variable nor one the code reads")
    elif name not in PROVIDER_ENV:
        fail(f"{where}: {name} is not a variable triage reads")


def listen_port(value, where):
    m = re.fullmatch(r"[^:]+:(\d+)", str(value))
    if not m:
        fail(f"{where}: listen value {value!r} is not HOST:PORT")
        return None
    return int(m.group(1))


def check_roles(where, args):
    if "serve" not in args:
        return None
    if "--roles" not in args:
        fail(f"{where}: serve without --roles")
        return None
    roles = args[args.index("--roles") + 1].split(",")
    for role in roles:
        if role not in ROLES:
            fail(f"{where}: role {role!r} is not one `triage serve --roles` accepts ({ROLES})")
    return roles


DEFAULTS = tomllib.loads(DOC)


def default(key):
    node = DEFAULTS
    for part in key.split("."):
        node = node[part]
    return node


# --- docker-compose.yml -------------------------------------------------------------------------

compose = yaml.safe_load(read("deploy/docker-compose.yml"))
services = compose["services"]
for infra in ("kafka", "postgres"):
    if infra not in services:
        fail(f"compose: no {infra} service")
kafka_env = services.get("kafka", {}).get("environment", {})
if "controller" not in kafka_env.get("KAFKA_PROCESS_ROLES", ""):
    fail("compose: kafka is not in KRaft mode (KAFKA_PROCESS_ROLES without controller)")
kafka_port = int(re.search(r"PLAINTEXT://kafka:(\d+)", kafka_env.get("KAFKA_ADVERTISED_LISTENERS", "")).group(1))
compose_roles = set()
migrate_seen = False
for name, svc in services.items():
    if svc.get("image", "").split(":")[0] != "triage":
        continue
    where = f"compose service {name}"
    env = svc.get("environment", {})
    for var, value in env.items():
        check_env(where, var)
        if var == "TRIAGE_PG_DSN" and "host=postgres port=5432" not in value:
            fail(f"{where}: TRIAGE_PG_DSN does not point at the postgres service's 5432")
        if var == "TRIAGE_KAFKA_BROKERS" and value != f"kafka:{kafka_port}":
            fail(f"{where}: TRIAGE_KAFKA_BROKERS {value} is not kafka:{kafka_port}")
    ports = {
        "api": listen_port(env.get("TRIAGE_API_LISTEN", default("api.listen")), where),
        "admin": listen_port(env.get("TRIAGE_ADMIN_LISTEN", default("admin.listen")), where),
    }
    command = svc.get("command", [])
    if "--config" in command:
        fail(f"{where}: compose configures through the environment; --config is not copied in")
    if command[:1] == ["migrate"]:
        migrate_seen = True
    roles = check_roles(where, command) or []
    compose_roles.update(roles)
    if len(roles) > 1:
        fail(f"{where}: runs {roles}; each role is a service of its own")
    for mapping in svc.get("ports", []):
        target = int(str(mapping).split(":")[-1])
        if target not in ports.values():
            fail(f"{where}: publishes container port {target}, not api.listen or admin.listen")
        if target == ports["api"] and "api" not in roles:
            fail(f"{where}: publishes the api port without the api role")
    grace = svc.get("stop_grace_period")
    drain = int(env.get("TRIAGE_SHUTDOWN_DRAIN_SECONDS", default("shutdown.drain_seconds")))
    if roles and (not grace or int(grace.rstrip("s")) <= drain):
        fail(f"{where}: stop_grace_period {grace} is not longer than drain_seconds {drain}")
    if roles and svc.get("depends_on", {}).get("migrate", {}).get("condition") != \
            "service_completed_successfully":
        fail(f"{where}: does not wait for the migration step")
if compose_roles != ROLES:
    fail(f"compose: roles {compose_roles} are not every role {ROLES}")
if not migrate_seen:
    fail("compose: no `triage migrate` step")

# --- Kubernetes ---------------------------------------------------------------------------------

docs = []
for path in sorted(glob.glob(os.path.join(ROOT, "deploy/k8s/*.yaml"))):
    with open(path, encoding="utf-8") as f:
        docs += [(os.path.basename(path), d) for d in yaml.safe_load_all(f) if d]
by_kind = {}
for file, d in docs:
    by_kind.setdefault(d["kind"], []).append((file, d))

kustomization = by_kind.get("Kustomization", [(None, {"resources": []})])[0][1]
for file, d in docs:
    if d["kind"] != "Kustomization" and file not in kustomization["resources"]:
        fail(f"k8s: {file} is not listed in kustomization.yaml")
for resource in kustomization["resources"]:
    if not os.path.exists(os.path.join(ROOT, "deploy/k8s", resource)):
        fail(f"k8s: kustomization.yaml lists {resource}, which does not exist")

configmaps = {d["metadata"]["name"]: d for _, d in by_kind.get("ConfigMap", [])}
secrets = {d["metadata"]["name"]: d for _, d in by_kind.get("Secret", [])}
config_text = configmaps["triage-config"]["data"]["triage.toml"]
config = tomllib.loads(config_text)
for key in leaves(config):
    if not documented(key):
        fail(f"k8s ConfigMap triage-config: key {key} is not documented in config/triage.toml")


def setting(key):
    node = config
    for part in key.split("."):
        if part not in node:
            return default(key)
        node = node[part]
    return node


api_port = listen_port(setting("api.listen"), "ConfigMap api.listen")
admin_port = listen_port(setting("admin.listen"), "ConfigMap admin.listen")
for name, secret in secrets.items():
    for var in list(secret.get("stringData", {})) + list(secret.get("data", {})):
        check_env(f"k8s Secret {name}", var)

deployment_roles = {}
for file, d in by_kind.get("Deployment", []):
    name = d["metadata"]["name"]
    spec = d["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    for c in spec["containers"]:
        where = f"k8s Deployment {name} container {c['name']}"
        args = c.get("args", [])
        roles = check_roles(where, args) or []
        if len(roles) != 1:
            fail(f"{where}: runs {roles}; a Deployment per role")
        for role in roles:
            deployment_roles[role] = name
        # The config file is the mounted ConfigMap.
        if "--config" not in args:
            fail(f"{where}: no --config")
        else:
            config_dir = os.path.dirname(args[args.index("--config") + 1])
            mounts = [m for m in c.get("volumeMounts", []) if m["mountPath"] == config_dir]
            if not mounts or volumes.get(mounts[0]["name"], {}).get("configMap", {}).get("name") \
                    != "triage-config":
                fail(f"{where}: {config_dir} is not the triage-config ConfigMap")
        for e in c.get("env", []):
            check_env(where, e["name"])
        for ref in c.get("envFrom", []):
            if "secretRef" in ref and ref["secretRef"]["name"] not in secrets:
                fail(f"{where}: envFrom names Secret {ref['secretRef']['name']}, not defined")
        ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
        if ports.get("admin") != admin_port:
            fail(f"{where}: admin port {ports.get('admin')} is not admin.listen's {admin_port}")
        if "api" in roles and ports.get("http") != api_port:
            fail(f"{where}: http port {ports.get('http')} is not api.listen's {api_port}")
        if "api" not in roles and "http" in ports:
            fail(f"{where}: exposes the api port without the api role")
        for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
            get = c.get(probe, {}).get("httpGet", {})
            port = ports.get(get.get("port"), get.get("port"))
            if get.get("path") != path or port != admin_port:
                fail(f"{where}: {probe} is not {path} on the admin port ({get})")
    # The grace period runs from the preStop hook: its sleep and the drain must both fit.
    pre_stop = 0
    for c in spec["containers"]:
        command = c.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
        if command[:1] == ["sleep"]:
            pre_stop = max(pre_stop, int(command[1]))
        elif command:
            fail(f"k8s Deployment {name}: preStop {command} is not a sleep")
    if deployment_roles.get("api") == name and pre_stop == 0:
        fail(f"k8s Deployment {name}: the api has no preStop sleep (clients of a stopping pod "
             "would meet refused connections until its endpoint is removed)")
    grace = spec.get("terminationGracePeriodSeconds", 30)
    if grace <= pre_stop + setting("shutdown.drain_seconds"):
        fail(f"k8s Deployment {name}: terminationGracePeriodSeconds {grace} is not longer than "
             f"the preStop sleep {pre_stop} plus shutdown.drain_seconds "
             f"{setting('shutdown.drain_seconds')}")
    annotations = d["spec"]["template"]["metadata"].get("annotations", {})
    if annotations.get("prometheus.io/port") not in (None, str(admin_port)):
        fail(f"k8s Deployment {name}: scraped on {annotations['prometheus.io/port']}, "
             f"not admin.listen's {admin_port}")
if set(deployment_roles) != ROLES:
    fail(f"k8s: Deployments for {set(deployment_roles)}, not every role {ROLES}")

for file, svc in by_kind.get("Service", []):
    selector = svc["spec"]["selector"]
    targets = [d for _, d in by_kind.get("Deployment", [])
               if all(d["spec"]["template"]["metadata"]["labels"].get(k) == v
                      for k, v in selector.items())]
    if len(targets) != 1:
        fail(f"k8s Service {svc['metadata']['name']}: selects {len(targets)} Deployments")
        continue
    ports = {p["name"]: p["containerPort"]
             for c in targets[0]["spec"]["template"]["spec"]["containers"] for p in c["ports"]}
    for p in svc["spec"]["ports"]:
        if p["targetPort"] not in ports and p["targetPort"] not in ports.values():
            fail(f"k8s Service {svc['metadata']['name']}: targetPort {p['targetPort']} is no "
                 f"container port of {targets[0]['metadata']['name']}")

scaled = by_kind.get("ScaledObject", [])
if len(scaled) != 1:
    fail(f"k8s: {len(scaled)} ScaledObjects, want the workers'")
for _, so in scaled:
    spec = so["spec"]
    if spec["scaleTargetRef"]["name"] != deployment_roles.get("worker"):
        fail(f"k8s ScaledObject: scales {spec['scaleTargetRef']['name']}, not the worker's "
             f"Deployment {deployment_roles.get('worker')}")
    kafka = [t for t in spec["triggers"] if t["type"] == "kafka"]
    if len(kafka) != 1:
        fail("k8s ScaledObject: no kafka trigger")
        continue
    meta = kafka[0]["metadata"]
    if meta["topic"] != setting("kafka.topic_prefix") + ".reasoning":
        fail(f"k8s ScaledObject: topic {meta['topic']} is not the reasoning topic")
    if meta["consumerGroup"] != setting("worker.group"):
        fail(f"k8s ScaledObject: group {meta['consumerGroup']} is not worker.group")
    if meta["bootstrapServers"] != setting("kafka.brokers"):
        fail(f"k8s ScaledObject: brokers {meta['bootstrapServers']} are not kafka.brokers")
    if spec.get("maxReplicaCount", 100) > setting("kafka.reasoning_partitions"):
        fail("k8s ScaledObject: maxReplicaCount above kafka.reasoning_partitions (idle workers)")

jobs = by_kind.get("Job", [])
if not any("migrate" in c.get("args", []) for _, j in jobs
           for c in j["spec"]["template"]["spec"]["containers"]):
    fail("k8s: no Job running `triage migrate`")

# --- Dockerfile ---------------------------------------------------------------------------------

dockerfile = read("deploy/Dockerfile")
joined = re.sub(r"\\\n", " ", dockerfile)
stages = re.split(r"^FROM ", joined, flags=re.M)[1:]
if len(stages) < 2:
    fail("Dockerfile: not multi-stage")


def apt_packages(stage):
    packages = set()
    for m in re.finditer(r"apt-get install ([^&]*)", stage):
        packages |= {w for w in m.group(1).split() if not w.startswith("-")}
    return packages


for stage in stages:
    for m in re.finditer(r"^COPY (.*)$", stage, flags=re.M):
        words = shlex.split(m.group(1))
        if any(w.startswith("--from") for w in words):
            continue
        for source in words[:-1]:
            if not os.path.exists(os.path.join(ROOT, source)):
                fail(f"Dockerfile: COPY source {source} does not exist")
build_packages = apt_packages(stages[0])
runtime_packages = apt_packages(stages[-1])
install_deps = read("deploy/local/install-deps")
listed = set(re.search(r"packages=\((.*?)\)", install_deps, flags=re.S).group(1).split())
# What install-deps installs for the build (services, their tools and ccache are not needed).
for p in listed:
    needed = p.endswith("-dev") or p in {"clang-16", "cmake", "ninja-build", "pkg-config",
                                         "build-essential"}
    if needed and p != "libclang-rt-16-dev" and p not in build_packages:
        fail(f"Dockerfile: build stage lacks {p} (deploy/local/install-deps installs it)")
if "python3-yaml" not in listed:
    fail("install-deps: python3-yaml (this test's parser) is not installed by it")

# In debian:12-slim already: the C and C++ runtimes apt itself runs on.
BASE = {"libc6", "libgcc-s1", "libstdc++6"}


def installed_depends(package):
    out = subprocess.run(["dpkg-query", "-W", "-f=${Pre-Depends}, ${Depends}", package],
                         capture_output=True, text=True)
    if out.returncode != 0:
        return None
    names = set()
    for item in out.stdout.split(","):
        first = item.split("|")[0].strip()  # the first alternative, as apt would choose
        if first:
            names.add(re.split(r"[ :(]", first)[0])
    return names


# What installing the runtime packages brings along: their dependencies, recursively.
provided = set(BASE)
todo = list(runtime_packages)
while todo:
    p = todo.pop()
    if p in provided:
        continue
    provided.add(p)
    deps = installed_depends(p)
    if deps is None:
        known = subprocess.run(["apt-cache", "show", p], capture_output=True).returncode == 0
        if p in runtime_packages and not known:
            fail(f"Dockerfile: runtime package {p} is not a Debian package")
        continue
    todo += deps - provided
if BINARY:
    ldd = subprocess.run(["ldd", BINARY], capture_output=True, text=True, check=True).stdout
    libs = re.findall(r"=> (/\S+)", ldd)
    # One dpkg -S for every path a library may be listed under (usr-merge: /lib and /usr/lib).
    candidates = {}
    for lib in libs:
        real = os.path.realpath(lib)
        candidates[lib] = [lib, real, lib.replace("/lib/", "/usr/lib/", 1),
                           real.replace("/usr/lib/", "/lib/", 1)]
    paths = sorted({p for c in candidates.values() for p in c})
    out = subprocess.run(["dpkg", "-S"] + paths, capture_output=True, text=True).stdout
    owners = {}
    for line in out.splitlines():
        package, _, path = line.partition(": ")
        owners[path.strip()] = package.split(":")[0].split(",")[0].strip()
    for lib, paths_of_lib in candidates.items():
        owner = next((owners[p] for p in paths_of_lib if p in owners), None)
        if owner is None:
            fail(f"Dockerfile: no Debian package owns {lib} (ldd {BINARY})")
        elif owner not in provided:
            fail(f"Dockerfile: runtime stage lacks {owner} (for {os.path.basename(lib)})")
    print(f"ldd: {len(libs)} shared libraries checked against the runtime stage")

print(f"checked compose ({len(services)} services), {len(docs)} Kubernetes objects, "
      f"the Dockerfile: {len(failures)} failures")
sys.exit(1 if failures else 0)
