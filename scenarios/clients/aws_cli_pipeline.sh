#!/usr/bin/env bash
# The seed's pipeline with the AWS CLI, as CI jobs write it: `aws sts assume-role` once, the
# keys exported, then `aws s3api put-object` every interval for the length of the job.
#
# Every `aws` command is a new process. Under the harness they all run under one faketime
# wrapper, so `date`, `sleep` and every `aws` share one accelerated clock; the private HOME the
# harness gives each run keeps the CLI's disk cache (~/.aws/cli/cache) from leaking between
# runs. The exported keys are never renewed, so the job fails with ExpiredToken when they
# expire (one hour by default, or STS_LAB_DURATION_SECONDS).
#
# Exits 0 when the job completes; on the first failed command, with the CLI's status (set -e).
set -euo pipefail

# The job's length counts from its start-up, as lab.py's does.
start=$(date +%s)
role=${STS_LAB_ROLE_ARN:-arn:aws:iam::123456789012:role/cross-account-s3}

log() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $*"; }

duration=()
if [ -n "${STS_LAB_DURATION_SECONDS:-}" ]; then
  duration=(--duration-seconds "$STS_LAB_DURATION_SECONDS")
fi
creds=$(aws sts assume-role --role-arn "$role" --role-session-name pipeline "${duration[@]}" \
  --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken,Expiration]' --output text)
read -r AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN expiration <<<"$creds"
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
log "assumed $role; keys exported, expiring $expiration"

# The same loop as on a profile; the CLI takes the exported keys before any profile.
STS_LAB_JOB_START=$start exec bash "$(dirname "$0")/aws_cli_profile.sh"
