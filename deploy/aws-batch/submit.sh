#!/usr/bin/env bash
# One sharded trailsift run on AWS Batch:
#   1. `trailsift plan` here (one listing of the trail; writes the shard plan to S3),
#   2. the job definitions registered (a new revision each run; this run pins its own),
#   3. one array job of SHARDS children, each `trailsift analyze --shard auto/SHARDS`,
#   4. the merge job, which Batch starts only once every child has succeeded.
#
#   deploy/aws-batch/submit.sh                       # the values below
#   RUN_ID=march SHARDS=32 deploy/aws-batch/submit.sh
#
# Every variable below can be set in the environment instead of edited here. Needs the AWS
# CLI (v1 or v2) and `trailsift` on PATH (or TRAILSIFT=/path/to/trailsift). Credentials and
# profile come the usual AWS way (AWS_PROFILE, ...). With AWS_ENDPOINT_URL set, every call,
# trailsift's included, goes to that endpoint (a local test server; see
# scripts/check-batch-on-moto.py).
set -euo pipefail

TRAIL="${TRAIL:-s3://my-trail-bucket/AWSLogs/}"   # the trail (bucket and AWSLogs/ prefix)
RESULTS="${RESULTS:-s3://my-results-bucket}"      # runs go to $RESULTS/runs/$RUN_ID/
RUN_ID="${RUN_ID:-$(date -u +%Y%m%dT%H%M%SZ)}"    # letters, digits, - and _
SHARDS="${SHARDS:-16}"                            # array size: 2 to 10000
QUEUE="${QUEUE:-trailsift}"                       # the Batch job queue (Fargate)
REGION="${REGION:-${AWS_REGION:-us-east-1}}"      # where Batch, ECR and the roles are

START="${START:-2026-03-01}"                      # the window, --end exclusive
END="${END:-2026-04-01}"
S3_REGION="${S3_REGION:-}"                        # the buckets' region, if not REGION's
IMAGE="${IMAGE:-}"                                # default: this account's ECR trailsift:latest
JOB_ROLE="${JOB_ROLE:-trailsift-job}"             # role names (iam-policy.json, README.md)
EXECUTION_ROLE="${EXECUTION_ROLE:-trailsift-execution}"
TRAILSIFT="${TRAILSIFT:-trailsift}"

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

die() { echo "submit.sh: $*" >&2; exit 1; }

# Checked before anything is listed or submitted: Batch refuses an array of fewer than 2
# or more than 10,000 children, and RUN_ID is part of job names and S3 keys.
if ! [[ "$SHARDS" =~ ^[1-9][0-9]{0,4}$ ]] || (( SHARDS < 2 || SHARDS > 10000 )); then
    die "SHARDS must be a whole number from 2 to 10000 (an array job), not '$SHARDS'; for one shard run \`trailsift analyze\` alone"
fi
if ! [[ "$RUN_ID" =~ ^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$ ]]; then
    die "RUN_ID may hold only letters, digits, - and _ (it names jobs and S3 keys), not '$RUN_ID'"
fi
if [[ "$TRAIL" != s3://* || "$RESULTS" != s3://* ]]; then
    die "TRAIL and RESULTS must be s3:// URLs"
fi
command -v aws >/dev/null || die "the AWS CLI (aws) is not on PATH"
command -v "$TRAILSIFT" >/dev/null || die "'$TRAILSIFT' is not on PATH (set TRAILSIFT=/path/to/trailsift)"

RUN="${RESULTS%/}/runs/$RUN_ID"
PLAN="$RUN/plan.json"
PARTIALS="$RUN/partials/"

export AWS_PAGER=""   # AWS CLI v2 would page long output
AWS=(aws --region "$REGION")
TS=()
if [[ -n "${AWS_ENDPOINT_URL:-}" ]]; then
    AWS+=(--endpoint-url "$AWS_ENDPOINT_URL")   # also for AWS CLIs older than its env support
    TS+=(--endpoint-url "$AWS_ENDPOINT_URL")    # implies --path-style
fi
if [[ -n "$S3_REGION" ]]; then
    TS+=(--s3-region "$S3_REGION")
fi

ACCOUNT_ID="$("${AWS[@]}" sts get-caller-identity --query Account --output text)"
IMAGE="${IMAGE:-$ACCOUNT_ID.dkr.ecr.$REGION.amazonaws.com/trailsift:latest}"

# 1. The plan: the one listing of the trail, objects split into SHARDS shares by bytes.
echo "planning $SHARDS shards of $TRAIL ($START to $END) into $PLAN" >&2
"$TRAILSIFT" plan "$TRAIL" --shards "$SHARDS" --start "$START" --end "$END" --out "$PLAN" \
    "${TS[@]+"${TS[@]}"}"

# 2. The job definitions, with this account's image and roles in place of the placeholders.
# A job definition keeps only defaults for the parameters; each run passes its own below.
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
register() {
    sed -e "s|ACCOUNT_ID\.dkr\.ecr\.REGION\.amazonaws\.com/trailsift:latest|$IMAGE|" \
        -e "s|arn:aws:iam::ACCOUNT_ID:role/trailsift-job|arn:aws:iam::$ACCOUNT_ID:role/$JOB_ROLE|" \
        -e "s|arn:aws:iam::ACCOUNT_ID:role/trailsift-execution|arn:aws:iam::$ACCOUNT_ID:role/$EXECUTION_ROLE|" \
        "$HERE/$1" > "$TMP/$1"
    "${AWS[@]}" batch register-job-definition --cli-input-json "file://$TMP/$1" \
        --query jobDefinitionArn --output text
}
SHARD_DEF="$(register job-definition.json)"
MERGE_DEF="$(register merge-job-definition.json)"

# 3. The shards: one array job; Batch sets AWS_BATCH_JOB_ARRAY_INDEX (0 to SHARDS-1) in
# each child, which `--shard auto/SHARDS` reads. A failed child is retried (retryStrategy
# in job-definition.json) and simply runs its share again, overwriting its partial.
ARRAY_JOB_ID="$("${AWS[@]}" batch submit-job \
    --job-name "trailsift-$RUN_ID-shards" \
    --job-queue "$QUEUE" \
    --job-definition "$SHARD_DEF" \
    --array-properties "size=$SHARDS" \
    --parameters "{\"plan\":\"$PLAN\",\"partials\":\"$PARTIALS\",\"shards\":\"auto/$SHARDS\"}" \
    --query jobId --output text)"

# 4. The merge: a dependency on the array job (no type) waits for every child. If any
# child fails for good, the merge never starts and fails too: no partial result is merged.
MERGE_JOB_ID="$("${AWS[@]}" batch submit-job \
    --job-name "trailsift-$RUN_ID-merge" \
    --job-queue "$QUEUE" \
    --job-definition "$MERGE_DEF" \
    --depends-on "jobId=$ARRAY_JOB_ID" \
    --parameters "{\"partials\":\"$PARTIALS\",\"results\":\"$RUN/\"}" \
    --query jobId --output text)"

cat <<EOF
run:        $RUN_ID
plan:       $PLAN
shards:     $ARRAY_JOB_ID  ($SHARDS children, $SHARD_DEF)
merge:      $MERGE_JOB_ID  (after every shard, $MERGE_DEF)
results:    $RUN/  (Parquet files, summary.json, report.html)

Watch:
  aws batch describe-jobs --region $REGION --jobs $ARRAY_JOB_ID --query 'jobs[0].[status,arrayProperties.statusSummary]'
  aws batch list-jobs --region $REGION --array-job-id $ARRAY_JOB_ID --job-status FAILED
  aws batch describe-jobs --region $REGION --jobs $MERGE_JOB_ID --query 'jobs[0].[status,statusReason]'
  aws logs tail /aws/batch/job --region $REGION --follow --log-stream-name-prefix trailsift-   # AWS CLI v2
Then:
  aws s3 cp --recursive $RUN/ ./$RUN_ID/ --exclude 'partials/*'
EOF
