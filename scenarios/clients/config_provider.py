#!/usr/bin/env python3
"""The fix: let botocore assume the role from the config file, and refresh it.

The harness's `profile = "assume-role"` writes ~/.aws/config with

    [default]
    role_arn = arn:aws:iam::123456789012:role/cross-account-s3
    source_profile = source

so boto3.Session() gets botocore's AssumeRoleProvider: it calls AssumeRole on first use and
again whenever less than 15 minutes of the credentials remain (its advisory refresh window,
aws-facts 6.2), without a line of code here. The job runs as long as it needs to.

Exits 0 when the job completes, 1 on the first failed call.
"""

import sys

import boto3

import lab


def main():
    session = boto3.Session()
    return lab.run_job(session)


if __name__ == "__main__":
    sys.exit(main())
