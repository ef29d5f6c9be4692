#!/usr/bin/env python3
"""The deployment files in deploy/, checked against a real Batch API (moto's server) and parsed.

    python3 scripts/check-batch-on-moto.py

Starts the project's local AWS server (scripts/s3-test-server.py: moto's server mode, which
serves Batch, IAM, EC2 and STS as well as S3) on a free loopback port, switches moto's
Batch to its Docker-free backend (POST /moto-api/config {"batch": {"use_docker": false}}),
and creates what Batch needs: roles, a VPC with a subnet and a security group, a Fargate
compute environment and a job queue. Then:

1. deploy/aws-batch/iam-policy.json: least privilege as designed, and accepted by IAM.
2. deploy/aws-batch/job-definition.json and merge-job-definition.json, placeholders filled
   in, register through the real API shapes (boto3 refuses unknown fields) with the
   expected parameters, command, retry attempts, resources and roles.
3. A 16-shard array job and the merge that depends on it: describe_jobs shows the array
   size and the dependency; both reach SUCCEEDED within 60 s, and the merge's startedAt is
   not before the array's stoppedAt. moto's Docker-free Batch completes each job as it is
   submitted and does not itself hold a dependent job back, so this shows what moto
   reports, not that AWS enforces the order (AWS documents that it does). One shard run
   again alone (shards=3/16, no array), as the README's recovery does.
4. deploy/aws-batch/submit.sh, run against the same server with AWS_ENDPOINT_URL set and
   a stand-in `trailsift` that records its arguments: the plan command it runs, and the
   array and merge jobs it submits. It refuses bad SHARDS and RUN_ID before any call.
5. deploy/kubernetes/*.yaml: the Indexed Job (completionMode, completions, parallelism,
   per-index retries, `--shard auto/N` with N = completions, non-root, read-only root with
   an emptyDir at /tmp) and the merge Job reading the prefix the shards write; the Batch
   commands, filled with their parameter defaults, are the Kubernetes args word for word.

Exits non-zero with the failed check named; the server is stopped on every exit. Needs
scripts/requirements.txt (moto[server], boto3, awscli; PyYAML comes with them).
"""

import json
import os
import pathlib
import re
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
BATCH_DIR = ROOT / "deploy" / "aws-batch"
K8S_DIR = ROOT / "deploy" / "kubernetes"

REGION = "us-east-1"
SHARDS = 16
WAIT_SECONDS = 60

ENV = dict(
    os.environ,
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_REGION=REGION,
    AWS_DEFAULT_REGION=REGION,
    AWS_EC2_METADATA_DISABLED="true",
    AWS_CONFIG_FILE="/nonexistent/trailsift-check/config",
    AWS_SHARED_CREDENTIALS_FILE="/nonexistent/trailsift-check/credentials",
    AWS_PAGER="",
)
for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
    ENV.pop(var, None)


class CheckFailed(Exception):
    pass


PASSED = 0


def check(condition: bool, what: str, detail: object = None) -> None:
    """One named check: counted when it holds, the run's failure when it does not."""
    global PASSED
    if not condition:
        raise CheckFailed(what if detail is None else f"{what}\n    got: {detail!r}")
    PASSED += 1


def section(title: str) -> None:
    print(f"-- {title}", flush=True)


def ok(line: str) -> None:
    print(f"   ok  {line}", flush=True)


# ---------------------------------------------------------------------------------------
# The server


def start_server() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts/s3-test-server.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    endpoint = proc.stdout.readline().strip()
    if not endpoint.startswith("http://127.0.0.1:"):
        proc.kill()
        raise CheckFailed(f"the moto server did not start (first line {endpoint!r}); "
                          "pip install -r scripts/requirements.txt")
    return proc, endpoint


def stop_server(proc: subprocess.Popen) -> None:
    # s3-test-server.py serves until its standard input closes.
    try:
        proc.stdin.close()
        proc.wait(timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        proc.kill()
        proc.wait()


def moto_config(endpoint: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{endpoint}/moto-api/config", data=data,
                                 method="GET" if body is None else "POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.load(resp)


# ---------------------------------------------------------------------------------------
# Placeholders: the same strings submit.sh replaces.


def fill_definition(text: str, account: str, image: str) -> str:
    return (text
            .replace("ACCOUNT_ID.dkr.ecr.REGION.amazonaws.com/trailsift:latest", image)
            .replace("arn:aws:iam::ACCOUNT_ID:role/", f"arn:aws:iam::{account}:role/"))


def substitute_refs(command: list[str], parameters: dict[str, str]) -> list[str]:
    """Batch's substitution as AWS documents it: an argument that is Ref::NAME, whole."""
    return [parameters.get(arg[len("Ref::"):], arg) if arg.startswith("Ref::") else arg
            for arg in command]


def after(args: list[str], flag: str) -> str | None:
    return args[args.index(flag) + 1] if flag in args and args.index(flag) + 1 < len(args) else None


# ---------------------------------------------------------------------------------------
# 1. The job role's policy


def check_policy(iam, account: str) -> str:
    section("iam-policy.json")
    policy = json.loads((BATCH_DIR / "iam-policy.json").read_text())
    statements = policy["Statement"]
    check(policy.get("Version") == "2012-10-17", "the policy has Version 2012-10-17")
    for st in statements:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        check(st["Effect"] == "Allow" and all("*" not in a for a in actions),
              "every statement allows named actions, no wildcards", st)
        check(all(r != "*" and r.count("*") <= 1 and (r.endswith("/*") or "*" not in r)
                  for r in resources), "no statement's resource is open-ended", st)

    def grants(action: str) -> list[str]:
        out = []
        for st in statements:
            actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            if action in actions:
                out += st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        return sorted(out)

    every = sorted({a for st in statements
                    for a in (st["Action"] if isinstance(st["Action"], list) else [st["Action"]])})
    check(every == ["kms:Decrypt", "s3:AbortMultipartUpload", "s3:GetObject", "s3:ListBucket",
                    "s3:PutObject"], "the policy grants exactly list/get/put/abort and kms:Decrypt",
          every)
    check(grants("s3:ListBucket") == ["arn:aws:s3:::RESULTS_BUCKET", "arn:aws:s3:::TRAIL_BUCKET"],
          "ListBucket on the two buckets only", grants("s3:ListBucket"))
    check(grants("s3:GetObject") == ["arn:aws:s3:::RESULTS_BUCKET/runs/*",
                                     "arn:aws:s3:::TRAIL_BUCKET/AWSLogs/*"],
          "GetObject on the trail's AWSLogs/ and the results' runs/", grants("s3:GetObject"))
    check(grants("s3:PutObject") == ["arn:aws:s3:::RESULTS_BUCKET/runs/*"]
          and grants("s3:AbortMultipartUpload") == ["arn:aws:s3:::RESULTS_BUCKET/runs/*"],
          "PutObject and AbortMultipartUpload on the results' runs/ only, never the trail")
    for st in statements:
        if st["Action"] == "s3:ListBucket":
            check(list(st.get("Condition", {}).get("StringLike", {})) == ["s3:prefix"],
                  "each ListBucket is held to a prefix", st)
    kms = [st for st in statements if st["Action"] == "kms:Decrypt"]
    check(len(kms) == 1 and kms[0]["Resource"].startswith("arn:aws:kms:")
          and "kms:ViaService" in kms[0].get("Condition", {}).get("StringEquals", {}),
          "kms:Decrypt is its own statement, on one key, only through S3", kms)
    ok("least privilege: " + ", ".join(every))

    filled = (json.dumps(policy)
              .replace("TRAIL_BUCKET", "trail-bucket").replace("RESULTS_BUCKET", "results-bucket")
              .replace("arn:aws:kms:REGION:ACCOUNT_ID:key/TRAIL_KEY_ID",
                       f"arn:aws:kms:{REGION}:{account}:key/1234abcd-12ab-34cd-56ef-1234567890ab")
              .replace("s3.REGION.amazonaws.com", f"s3.{REGION}.amazonaws.com"))
    check(not re.search(r"ACCOUNT_ID|REGION|_BUCKET|KEY_ID", filled),
          "every placeholder of iam-policy.json is one the README names", filled)
    arn = iam.create_policy(PolicyName="trailsift-job", PolicyDocument=filled)["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="trailsift-job", PolicyArn=arn)
    ok(f"IAM accepts it, attached to trailsift-job ({arn})")
    return arn


# ---------------------------------------------------------------------------------------
# Batch's prerequisites


def create_batch_environment(iam, ec2, batch) -> str:
    section("Batch environment on moto")

    def role(name: str, service: str) -> str:
        trust = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]}
        return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]

    role("trailsift-job", "ecs-tasks.amazonaws.com")
    role("trailsift-execution", "ecs-tasks.amazonaws.com")
    service_role = role("trailsift-batch-service", "batch.amazonaws.com")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    sg = ec2.create_security_group(GroupName="trailsift", Description="trailsift jobs",
                                   VpcId=vpc)["GroupId"]
    env = batch.create_compute_environment(
        computeEnvironmentName="trailsift-fargate", type="MANAGED", state="ENABLED",
        computeResources={"type": "FARGATE", "maxvCpus": 64, "subnets": [subnet],
                          "securityGroupIds": [sg]},
        serviceRole=service_role)["computeEnvironmentArn"]
    queue = batch.create_job_queue(
        jobQueueName="trailsift", state="ENABLED", priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": env}])["jobQueueArn"]
    ok(f"roles, {vpc}/{subnet}/{sg}, compute environment trailsift-fargate, queue trailsift")
    return queue


# ---------------------------------------------------------------------------------------
# 2. The job definitions


EXPECTED = {
    "job-definition.json": {
        "name": "trailsift-shard",
        "parameters": ["partials", "plan", "shards"],
        "command": ["analyze", "--plan", "Ref::plan", "--shard", "Ref::shards",
                    "--out", "Ref::partials", "--no-progress"],
    },
    "merge-job-definition.json": {
        "name": "trailsift-merge",
        "parameters": ["partials", "results"],
        "command": ["merge", "Ref::partials", "--out", "Ref::results", "--no-progress"],
    },
}


def check_definition(batch, definition: dict, file: str, account: str, image: str) -> None:
    want = EXPECTED[file]
    got = batch.describe_job_definitions(jobDefinitionName=want["name"],
                                         status="ACTIVE")["jobDefinitions"]
    check(len(got) >= 1, f"{file}: registered as {want['name']}", got)
    jd = max(got, key=lambda d: d["revision"])
    cp = jd["containerProperties"]
    check(jd["type"] == "container" and jd["platformCapabilities"] == ["FARGATE"],
          f"{file}: a container job for Fargate", (jd["type"], jd["platformCapabilities"]))
    check(sorted(jd["parameters"]) == want["parameters"],
          f"{file}: parameters {want['parameters']}", jd["parameters"])
    check(cp["command"] == want["command"], f"{file}: command {want['command']}", cp["command"])
    refs = [a[len("Ref::"):] for a in cp["command"] if "Ref::" in a]
    check(all(a.startswith("Ref::") for a in cp["command"] if "Ref::" in a)
          and all(r in jd["parameters"] for r in refs),
          f"{file}: each Ref:: is a whole argument with a default", cp["command"])
    check(jd["retryStrategy"].get("attempts") == 3, f"{file}: retryStrategy attempts 3",
          jd["retryStrategy"])
    resources = {r["type"]: r["value"] for r in cp["resourceRequirements"]}
    check(resources == {"VCPU": "2", "MEMORY": "4096"},
          f"{file}: resourceRequirements VCPU 2, MEMORY 4096", resources)
    # Fargate takes 4096 to 16384 MiB in steps of 1024 with 2 vCPU.
    check(4096 <= int(resources["MEMORY"]) <= 16384 and int(resources["MEMORY"]) % 1024 == 0,
          f"{file}: a memory size Fargate offers with 2 vCPU", resources)
    check(cp["image"] == image, f"{file}: image filled in", cp["image"])
    check(cp["jobRoleArn"] == f"arn:aws:iam::{account}:role/trailsift-job"
          and cp["executionRoleArn"] == f"arn:aws:iam::{account}:role/trailsift-execution",
          f"{file}: job and execution roles filled in", (cp["jobRoleArn"], cp["executionRoleArn"]))
    check(jd.get("timeout", {}).get("attemptDurationSeconds", 0) > 0,
          f"{file}: an attempt timeout, so a hung job ends", jd.get("timeout"))
    ok(f"{file}: {jd['jobDefinitionArn']}: {' '.join(cp['command'])}; "
       f"retry {jd['retryStrategy']['attempts']}, {resources['VCPU']} vCPU, "
       f"{resources['MEMORY']} MiB, {jd['platformCapabilities'][0]}")


def register_definitions(batch, account: str, image: str) -> dict[str, dict]:
    section("job definitions, registered with boto3")
    out = {}
    for file in EXPECTED:
        raw = (BATCH_DIR / file).read_text()
        definition = json.loads(fill_definition(raw, account, image))
        leftover = json.dumps({k: v for k, v in definition.items() if k != "parameters"})
        check(not re.search(r"ACCOUNT_ID|\bREGION\b", leftover),
              f"{file}: no placeholder left outside the parameter defaults", leftover)
        arn = batch.register_job_definition(**definition)["jobDefinitionArn"]
        check_definition(batch, definition, file, account, image)
        out[file] = {"arn": arn, "definition": json.loads(raw)}
    return out


# ---------------------------------------------------------------------------------------
# 3. The jobs


def wait_succeeded(batch, job_ids: list[str]) -> dict[str, dict]:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        jobs = {j["jobId"]: j for j in batch.describe_jobs(jobs=job_ids)["jobs"]}
        statuses = {i: jobs.get(i, {}).get("status") for i in job_ids}
        if any(s == "FAILED" for s in statuses.values()):
            raise CheckFailed(f"a job FAILED on moto: {statuses}")
        if all(s == "SUCCEEDED" for s in statuses.values()):
            return jobs
        if time.monotonic() > deadline:
            raise CheckFailed(f"jobs not SUCCEEDED after {WAIT_SECONDS} s: {statuses}")
        time.sleep(0.2)


def check_run(batch, array_id: str, merge_id: str, plan: str, partials: str, results: str,
              label: str) -> None:
    jobs = {j["jobId"]: j for j in batch.describe_jobs(jobs=[array_id, merge_id])["jobs"]}
    check(set(jobs) == {array_id, merge_id}, f"{label}: describe_jobs finds both jobs", list(jobs))
    array, merge = jobs[array_id], jobs[merge_id]
    check(array.get("arrayProperties", {}).get("size") == SHARDS,
          f"{label}: the array job has arrayProperties size {SHARDS}", array.get("arrayProperties"))
    check(array["parameters"] == {"plan": plan, "partials": partials, "shards": f"auto/{SHARDS}"},
          f"{label}: the array job's parameters", array["parameters"])
    check(merge["dependsOn"] == [{"jobId": array_id}],
          f"{label}: the merge depends on the array job (no type: every child)", merge["dependsOn"])
    check(merge["parameters"] == {"partials": partials, "results": results},
          f"{label}: the merge's parameters", merge["parameters"])
    ok(f"{label}: array {array_id} size {array['arrayProperties']['size']}; "
       f"merge {merge_id} dependsOn {merge['dependsOn']}")

    done = wait_succeeded(batch, [array_id, merge_id])
    array, merge = done[array_id], done[merge_id]
    children = batch.list_jobs(arrayJobId=array_id)["jobSummaryList"]
    indexes = sorted(int(c["jobId"].rsplit(":", 1)[1]) for c in children)
    check(indexes == list(range(SHARDS)) and all(c["status"] == "SUCCEEDED" for c in children),
          f"{label}: children {array_id}:0 to :{SHARDS - 1}, all SUCCEEDED",
          [(c["jobId"], c["status"]) for c in children])
    summary = array["arrayProperties"].get("statusSummary", {})
    check(summary.get("SUCCEEDED") == SHARDS, f"{label}: statusSummary counts {SHARDS} SUCCEEDED",
          summary)
    stopped, started = array.get("stoppedAt"), merge.get("startedAt")
    if stopped is None or started is None:
        raise CheckFailed(f"{label}: moto reports no array stoppedAt ({stopped}) or merge "
                          f"startedAt ({started}): {array} {merge}")
    check(started >= stopped, f"{label}: the merge started at or after the array stopped",
          (started, stopped))
    ok(f"{label}: SUCCEEDED, {SHARDS}/{SHARDS} children; array stoppedAt {stopped} <= merge "
       f"startedAt {started} (+{started - stopped} ms)")


def submit_with_boto3(batch, queue: str, definitions: dict[str, dict]) -> None:
    section("array job and dependent merge, submitted with boto3")
    run = "s3://results-bucket/runs/check-boto3"
    plan, partials, results = f"{run}/plan.json", f"{run}/partials/", f"{run}/"
    array_id = batch.submit_job(
        jobName="trailsift-check-boto3-shards", jobQueue=queue,
        jobDefinition=definitions["job-definition.json"]["arn"],
        arrayProperties={"size": SHARDS},
        parameters={"plan": plan, "partials": partials, "shards": f"auto/{SHARDS}"})["jobId"]
    merge_id = batch.submit_job(
        jobName="trailsift-check-boto3-merge", jobQueue=queue,
        jobDefinition=definitions["merge-job-definition.json"]["arn"],
        dependsOn=[{"jobId": array_id}],
        parameters={"partials": partials, "results": results})["jobId"]
    check_run(batch, array_id, merge_id, plan, partials, results, "boto3")

    # A shard run again alone (deploy/aws-batch/README.md, "When a shard fails for good"):
    # the same definition, `--shard 3/16` through the shards parameter, no array.
    again = batch.submit_job(
        jobName="trailsift-check-boto3-shard-3", jobQueue=queue,
        jobDefinition=definitions["job-definition.json"]["arn"],
        parameters={"plan": plan, "partials": partials, "shards": f"3/{SHARDS}"})["jobId"]
    job = wait_succeeded(batch, [again])[again]
    command = substitute_refs(definitions["job-definition.json"]["definition"]
                              ["containerProperties"]["command"], job["parameters"])
    check("arrayProperties" not in job and after(command, "--shard") == f"3/{SHARDS}",
          "one shard runs alone with shards=3/16, as the README's recovery does", job)
    ok(f"boto3: shard 3 alone ({again}) SUCCEEDED: trailsift {' '.join(command)}")


# ---------------------------------------------------------------------------------------
# 4. submit.sh


def run_submit(endpoint: str | None, work: pathlib.Path, **overrides: str) -> subprocess.CompletedProcess:
    env = dict(ENV, TRAILSIFT=str(work / "trailsift"), TRAILSIFT_ARGS=str(work / "plan-args"),
               **overrides)
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint
    return subprocess.run(["bash", str(BATCH_DIR / "submit.sh")], env=env, text=True,
                          capture_output=True, timeout=120, check=False)


def check_submit_script(batch, endpoint: str, account: str) -> None:
    section("deploy/aws-batch/submit.sh against moto")
    with tempfile.TemporaryDirectory(prefix="trailsift-check-batch-") as tmp:
        work = pathlib.Path(tmp)
        stub = work / "trailsift"
        # Stands in for `trailsift plan`: records its arguments, one a line.
        stub.write_text('#!/bin/sh\nprintf \'%s\\n\' "$@" > "$TRAILSIFT_ARGS"\n')
        stub.chmod(stub.stat().st_mode | stat.S_IXUSR)

        # Refused before any listing or call: no endpoint, so a call would fail differently.
        for bad, needle in (({"SHARDS": "1"}, "SHARDS must be"),
                            ({"SHARDS": "016"}, "SHARDS must be"),
                            ({"SHARDS": "10001"}, "SHARDS must be"),
                            ({"RUN_ID": "bad id"}, "RUN_ID may hold only")):
            proc = run_submit(None, work, **bad)
            check(proc.returncode != 0 and needle in proc.stderr
                  and not (work / "plan-args").exists(),
                  f"submit.sh refuses {bad} before planning", (proc.returncode, proc.stderr))
        ok("refuses SHARDS=1, 016, 10001 and RUN_ID='bad id' before planning")

        trail, results, run_id = "s3://trail-bucket/AWSLogs/", "s3://results-bucket", "check-submit"
        proc = run_submit(endpoint, work, TRAIL=trail, RESULTS=results, RUN_ID=run_id,
                          SHARDS=str(SHARDS), QUEUE="trailsift", REGION=REGION,
                          START="2026-03-01", END="2026-04-01")
        check(proc.returncode == 0, "submit.sh exits 0 against moto",
              f"exit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}")
        run = f"{results}/runs/{run_id}"
        plan_args = (work / "plan-args").read_text().splitlines()
        want = ["plan", trail, "--shards", str(SHARDS), "--start", "2026-03-01",
                "--end", "2026-04-01", "--out", f"{run}/plan.json", "--endpoint-url", endpoint]
        check(plan_args == want, "submit.sh runs trailsift plan with the run's values", plan_args)
        ok("runs: trailsift " + " ".join(plan_args))

        ids = dict(re.findall(r"^(shards|merge):\s+(\S+)", proc.stdout, re.MULTILINE))
        check(set(ids) == {"shards", "merge"}, "submit.sh prints the two job ids", proc.stdout)
        check_run(batch, ids["shards"], ids["merge"], f"{run}/plan.json", f"{run}/partials/",
                  f"{run}/", "submit.sh")
        jobs = {j["jobId"]: j for j in batch.describe_jobs(jobs=list(ids.values()))["jobs"]}
        image = f"{account}.dkr.ecr.{REGION}.amazonaws.com/trailsift:latest"
        for key, name in (("shards", "trailsift-shard"), ("merge", "trailsift-merge")):
            arn = jobs[ids[key]]["jobDefinition"]
            jd = batch.describe_job_definitions(jobDefinitions=[arn])["jobDefinitions"][0]
            check(jd["jobDefinitionName"] == name and jd["containerProperties"]["image"] == image
                  and jd["containerProperties"]["jobRoleArn"]
                  == f"arn:aws:iam::{account}:role/trailsift-job",
                  f"submit.sh registers {name} with this account's image and role",
                  jd["containerProperties"])
        check("aws batch describe-jobs" in proc.stdout and ids["shards"] in proc.stdout,
              "submit.sh says how to watch the jobs", proc.stdout)
        ok(f"registers {image} for both definitions; prints how to watch them")


# ---------------------------------------------------------------------------------------
# 5. Kubernetes


def container_args(job: dict) -> list[str]:
    containers = job["spec"]["template"]["spec"]["containers"]
    check(len(containers) == 1, f"{job['metadata']['name']}: one container", containers)
    c = containers[0]
    return list(c.get("command", [])) + list(c.get("args", []))


def check_pod_spec(job: dict, file: str) -> None:
    pod = job["spec"]["template"]["spec"]
    c = pod["containers"][0]
    check(pod.get("restartPolicy") == "Never", f"{file}: restartPolicy Never", pod.get("restartPolicy"))
    check(bool(pod.get("serviceAccountName")), f"{file}: a serviceAccountName (IRSA / Pod Identity)")
    sc = {**pod.get("securityContext", {}), **c.get("securityContext", {})}
    check(sc.get("runAsNonRoot") is True and sc.get("runAsUser") == 10001,
          f"{file}: runAsNonRoot as uid 10001 (the image's user)", sc)
    check(sc.get("readOnlyRootFilesystem") is True and sc.get("allowPrivilegeEscalation") is False,
          f"{file}: read-only root, no privilege escalation", sc)
    mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    check("/tmp" in mounts and "emptyDir" in volumes.get(mounts["/tmp"], {}),
          f"{file}: an emptyDir at /tmp", (mounts, volumes))
    res = c.get("resources", {})
    want = {"cpu": "2", "memory": "4Gi"}
    check(res.get("requests") == want and res.get("limits") == want,
          f"{file}: requests and limits 2 CPU / 4Gi", res)
    check(all(e["name"] not in ("JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX")
              for e in c.get("env", [])), f"{file}: leaves the index variables to the platform")


def check_kubernetes(definitions: dict[str, dict]) -> None:
    import yaml

    section("deploy/kubernetes/*.yaml")
    docs = {}
    for path in sorted(K8S_DIR.glob("*.yaml")):
        loaded = [d for d in yaml.safe_load_all(path.read_text()) if d]
        check(bool(loaded), f"{path.name}: parses as YAML with a document")
        docs[path.name] = loaded
    check({"indexed-job.yaml", "merge-job.yaml"} <= set(docs), "both manifests exist", list(docs))

    def the_job(file: str) -> dict:
        jobs = [d for d in docs[file] if d.get("kind") == "Job"]
        check(len(jobs) == 1 and jobs[0].get("apiVersion") == "batch/v1",
              f"{file}: one batch/v1 Job", [d.get("kind") for d in docs[file]])
        return jobs[0]

    shards, merge = the_job("indexed-job.yaml"), the_job("merge-job.yaml")
    spec = shards["spec"]
    check(spec.get("completionMode") == "Indexed", "indexed-job.yaml: completionMode Indexed",
          spec.get("completionMode"))
    check(spec.get("completions") == SHARDS, f"indexed-job.yaml: completions {SHARDS}",
          spec.get("completions"))
    check(isinstance(spec.get("parallelism"), int) and 1 <= spec["parallelism"] <= spec["completions"],
          "indexed-job.yaml: parallelism from 1 to completions", spec.get("parallelism"))
    check(spec.get("backoffLimitPerIndex") == 2 and isinstance(spec.get("maxFailedIndexes"), int),
          "indexed-job.yaml: backoffLimitPerIndex 2 with maxFailedIndexes",
          (spec.get("backoffLimitPerIndex"), spec.get("maxFailedIndexes")))
    check_pod_spec(shards, "indexed-job.yaml")
    check_pod_spec(merge, "merge-job.yaml")

    args = container_args(shards)
    shard = after(args, "--shard")
    check(args[:1] == ["analyze"] and shard == f"auto/{spec['completions']}",
          "indexed-job.yaml: `analyze --shard auto/N` with N = completions", args)
    partials, plan = after(args, "--out"), after(args, "--plan")
    check(bool(partials) and partials.endswith("/partials/") and bool(plan)
          and plan == partials[: -len("partials/")] + "plan.json",
          "indexed-job.yaml: the plan and partials of one run directory", (plan, partials))
    margs = container_args(merge)
    check(margs[:2] == ["merge", partials],
          "merge-job.yaml: merges the prefix the shards write", (margs, partials))
    check(after(margs, "--out") == partials[: -len("partials/")],
          "merge-job.yaml: writes the run directory", margs)
    ok(f"Indexed Job: completions {spec['completions']}, parallelism {spec['parallelism']}, "
       f"backoffLimitPerIndex {spec['backoffLimitPerIndex']}, maxFailedIndexes "
       f"{spec['maxFailedIndexes']}; trailsift {' '.join(args)}")
    ok(f"merge Job: trailsift {' '.join(margs)}")

    for file, k8s_args in (("job-definition.json", args), ("merge-job-definition.json", margs)):
        d = definitions[file]["definition"]
        batch_args = substitute_refs(d["containerProperties"]["command"], d["parameters"])
        check(batch_args == k8s_args,
              f"{file} (parameter defaults filled in) runs what Kubernetes runs",
              (batch_args, k8s_args))
    ok("the Batch commands, with their parameter defaults, equal the Kubernetes args")


# ---------------------------------------------------------------------------------------


def main() -> int:
    started = time.monotonic()
    try:
        import boto3
    except ImportError:
        print("check-batch-on-moto: boto3 is missing: pip install -r scripts/requirements.txt",
              file=sys.stderr)
        return 2

    server = None
    try:
        server, endpoint = start_server()
        section(f"moto server at {endpoint}")
        config = moto_config(endpoint, {"batch": {"use_docker": False}})
        check(config.get("batch", {}).get("use_docker") is False,
              "moto's Batch runs without Docker (/moto-api/config)", config)
        ok(f"/moto-api/config: {json.dumps(config)}")

        def client(name: str):
            return boto3.client(name, endpoint_url=endpoint, region_name=REGION,
                                aws_access_key_id="testing", aws_secret_access_key="testing")

        iam, ec2, batch, sts = client("iam"), client("ec2"), client("batch"), client("sts")
        account = sts.get_caller_identity()["Account"]
        image = f"{account}.dkr.ecr.{REGION}.amazonaws.com/trailsift:latest"

        queue = create_batch_environment(iam, ec2, batch)
        check_policy(iam, account)
        definitions = register_definitions(batch, account, image)
        submit_with_boto3(batch, queue, definitions)
        check_submit_script(batch, endpoint, account)
        check_kubernetes(definitions)
    except CheckFailed as failure:
        print(f"\nFAILED: {failure}", file=sys.stderr)
        print(f"{PASSED} passed, 1 failed", file=sys.stderr)
        return 1
    except Exception as error:  # an API error is a failed check too, named
        print(f"\nFAILED: {type(error).__name__}: {error}", file=sys.stderr)
        print(f"{PASSED} passed, 1 failed", file=sys.stderr)
        return 1
    finally:
        if server is not None:
            stop_server(server)
    print(f"\n{PASSED} passed, 0 failed ({time.monotonic() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
