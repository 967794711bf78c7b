#!/usr/bin/env bash
# The AWS CLI on a refreshing profile: `aws s3api put-object` every interval for the length of
# the job, each a new CLI process on the harness's generated profile (`role_arn` +
# `source_profile`, or `credential_source = Ec2InstanceMetadata` for profile = "imds"), with
# nothing exported. Each process gets its credentials from botocore's AssumeRoleProvider and
# the CLI's JSON disk cache (~/.aws/cli/cache, kept per run by the private HOME), which it
# reuses until fewer than 15 minutes remain (aws-facts 6.3): what the conformance pack measures
# for the CLI. With profile = "credential-process" every one of them runs the profile's
# credential_process: the CLI caches assume-role results on disk, not a credential process's
# (aws/aws-cli#5048, scenario 48). aws_cli_pipeline.sh runs this loop with exported keys.
#
# Exits 0 when the job completes; on the first failed command, with the CLI's status (set -e).
set -euo pipefail

# The job's length counts from its start-up, as lab.py's does (STS_LAB_JOB_START: a caller
# that started the job earlier, as aws_cli_pipeline.sh does).
start=${STS_LAB_JOB_START:-$(date +%s)}
length=${STS_LAB_LENGTH_SECONDS:-14400}
length=${length%.*}
every=${STS_LAB_EVERY_SECONDS:-60}
every=${every%.*}
[ "$every" -ge 1 ] || every=1
bucket=${STS_LAB_BUCKET:-pipeline-data}
size=${STS_LAB_OBJECT_SIZE:-1024}

log() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $*"; }

body="$HOME/part-0000"
head -c "$size" /dev/zero >"$body"
aws s3api create-bucket --bucket "$bucket" >/dev/null

tick=0
calls=0
while [ $((start + tick * every)) -lt $((start + length)) ]; do
  due=$((start + tick * every))
  now=$(date +%s)
  if [ "$due" -gt "$now" ]; then sleep $((due - now)); fi
  aws s3api put-object --bucket "$bucket" --key pipeline/part-0000 --body "$body" >/dev/null
  calls=$((calls + 1))
  log "PutObject ok"
  # The next round on the schedule; rounds a slow command made impossible are skipped.
  now=$(date +%s)
  next=$(((now - start + every - 1) / every))
  tick=$((tick + 1 > next ? tick + 1 : next))
done
log "job complete: $calls calls"
