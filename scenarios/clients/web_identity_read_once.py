#!/usr/bin/env python3
"""The bug of apache/doris#66554 and external-secrets#6654, in Python: read the web identity
token file once and keep sending that token.

The harness's `profile = "web-identity"` sets what EKS's pod identity webhook sets:
AWS_WEB_IDENTITY_TOKEN_FILE (the projected token, which the harness rotates as the kubelet does,
at 80 % of its lifetime), AWS_ROLE_ARN and AWS_ROLE_SESSION_NAME. boto3's own provider reads
the file again on every refresh. This client reads it once, at start-up, and hands botocore's
AssumeRoleWithWebIdentity fetcher that string: botocore still refreshes the role credentials on
time (15 minutes before they expire), but with a token that expires. The first refresh after
the token's expiry gets ExpiredTokenException from STS, and the job dies.

Exits 0 when the job completes, 1 on the first failed call.
"""

import os
import sys

import boto3
import botocore.session
from botocore.credentials import (
    AssumeRoleWithWebIdentityCredentialFetcher,
    CredentialProvider,
    DeferredRefreshableCredentials,
)

import lab


class TokenReadOnce(CredentialProvider):
    """botocore's web identity refresh, fed a token read once."""

    METHOD = "web-identity-read-once"

    def __init__(self, session):
        super().__init__()
        with open(os.environ["AWS_WEB_IDENTITY_TOKEN_FILE"]) as f:
            token = f.read()
        self._fetcher = AssumeRoleWithWebIdentityCredentialFetcher(
            client_creator=session.create_client,
            web_identity_token_loader=lambda: token,
            role_arn=os.environ["AWS_ROLE_ARN"],
            extra_args={"RoleSessionName": os.environ.get("AWS_ROLE_SESSION_NAME", "pipeline")},
        )

    def load(self):
        return DeferredRefreshableCredentials(
            method=self.METHOD, refresh_using=self._fetcher.fetch_credentials
        )


def main():
    core = botocore.session.get_session()
    core.get_component("credential_provider").insert_before("env", TokenReadOnce(core))
    session = boto3.Session(botocore_session=core)
    return lab.run_job(session)


if __name__ == "__main__":
    sys.exit(main())
