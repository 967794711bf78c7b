#!/usr/bin/env python3
"""The seed's pipeline: AssumeRole once at start-up, the keys copied into os.environ.

Step by step what the seed's job did: the long-term keys of the CI user (the harness's
`profile = "static"`: ~/.aws/credentials [default]) call sts:AssumeRole for the job's role, the
temporary keys go into AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, and every
client built afterwards signs with them. Nothing ever renews them, so the job dies with
ExpiredToken when they expire: after one hour by default (DurationSeconds is not sent), after
STS_LAB_DURATION_SECONDS when it is set (the seed's first "fix", a hard-coded DurationSeconds).

Exits 0 when the job completes, 1 on the first failed call.
"""

import os
import sys

import boto3

import lab


def main():
    sts = boto3.client("sts")
    request = {"RoleArn": lab.ROLE_ARN, "RoleSessionName": "pipeline"}
    if lab.DURATION_SECONDS:
        request["DurationSeconds"] = int(lab.DURATION_SECONDS)
    credentials = sts.assume_role(**request)["Credentials"]
    os.environ["AWS_ACCESS_KEY_ID"] = credentials["AccessKeyId"]
    os.environ["AWS_SECRET_ACCESS_KEY"] = credentials["SecretAccessKey"]
    os.environ["AWS_SESSION_TOKEN"] = credentials["SessionToken"]
    lab.log(f"assumed {lab.ROLE_ARN}; keys exported, expiring {credentials['Expiration']}")
    # Environment keys come first in boto3's credential chain.
    return lab.run_job(boto3.Session())


if __name__ == "__main__":
    sys.exit(main())
