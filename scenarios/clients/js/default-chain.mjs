// The fix in Node: the SDK's default credential chain assumes the role from the config file,
// and renews it.
//
// The harness's `profile = "assume-role"` writes ~/.aws/config with
//
//     [default]
//     role_arn = arn:aws:iam::123456789012:role/cross-account-s3
//     source_profile = source
//
// so fromNodeProviderChain() (the chain every Node client uses when given no credentials)
// resolves to the INI provider's AssumeRole: it calls AssumeRole on first use and again on the
// first call made when less than 5 minutes of the credentials remain (@smithy/core's
// EXPIRATION_MS = 300_000), without a line of code here. It is built once and shared so that
// the S3 and STS clients share one set of credentials, as one boto3 Session does (each client
// left to its default would assume the role on its own).
//
// Exits 0 when the job completes, 1 on the first failed call.

//
// In a version matrix row the chain is the row's (./sdk.mjs): the defaultProvider() of the
// @aws-sdk/credential-provider-node its @aws-sdk/client-s3 depends on, which the pinned
// fromNodeProviderChain() wraps.

import * as lab from "./lab.mjs";
import * as sdk from "./sdk.mjs";

process.exitCode = await lab.main(() => lab.runPipeline(lab.clients(sdk.defaultChain())));
