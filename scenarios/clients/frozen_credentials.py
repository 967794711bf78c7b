#!/usr/bin/env python3
"""aws/aws-cli#7246's symptom: credentials from a credential_process, resolved once and frozen.

The harness's `profile = "credential-process"` names its helper as the profile's
credential_process; the helper prints keys with an Expiration. botocore's ProcessProvider
would run it again before then (clients/config_provider.py on the same profile). This client
does what long-running tools that snapshot credentials do: it resolves them once
(get_frozen_credentials) and builds its clients on those static keys, so the helper never runs
again and the job dies with ExpiredToken when the keys expire.

Exits 0 when the job completes, 1 on the first failed call.
"""

import sys

import boto3

import lab


def main():
    frozen = boto3.Session().get_credentials().get_frozen_credentials()
    session = boto3.Session(
        aws_access_key_id=frozen.access_key,
        aws_secret_access_key=frozen.secret_key,
        aws_session_token=frozen.token,
    )
    return lab.run_job(session)


if __name__ == "__main__":
    sys.exit(main())
