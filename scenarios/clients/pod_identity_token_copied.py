#!/usr/bin/env python3
"""EKS Pod Identity with the token copied once: what a start-up script that exports
AWS_CONTAINER_AUTHORIZATION_TOKEN="$(cat $AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE)" does.

botocore's container provider reads AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE on every fetch, so
it always sends the token the kubelet wrote last. This client puts the file's contents into
AWS_CONTAINER_AUTHORIZATION_TOKEN at start-up (and drops the file variable, which would take
precedence), then runs the same job as clients/config_provider.py: once the copied token
expires, the Pod Identity agent refuses every fetch and the job dies at its next refresh.

Exits 0 when the job completes, 1 on the first failed call.
"""

import os
import sys

path = os.environ.pop("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
with open(path) as f:
    os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = f.read()

import config_provider  # noqa: E402  (the environment must be set before boto3 reads it)

if __name__ == "__main__":
    sys.exit(config_provider.main())
