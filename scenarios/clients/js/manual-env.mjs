// The seed's pipeline in Node: AssumeRole once at start-up, the keys kept in code.
//
// What ../manual_env.py does with boto3, in the AWS SDK for JavaScript v3: the long-term keys of
// the CI user (the harness's `profile = "static"`: ~/.aws/credentials [default]) call
// sts:AssumeRole for the job's role, and the temporary keys are handed to every client as
// `credentials: { accessKeyId, secretAccessKey, sessionToken }` (copying them into
// process.env.AWS_ACCESS_KEY_ID and friends before building the clients is the same thing).
// Nothing ever renews them, so the job dies with ExpiredToken when they expire: after one hour
// by default (DurationSeconds is not sent), after STS_LAB_DURATION_SECONDS when it is set.
//
// Exits 0 when the job completes, 1 on the first failed call.

import * as lab from "./lab.mjs";
import * as sdk from "./sdk.mjs";

process.exitCode = await lab.main(async () => {
  // The pinned @aws-sdk/client-sts, or a version matrix row's (./sdk.mjs).
  const { AssumeRoleCommand, STSClient } = sdk.sts();
  const request = { RoleArn: lab.ROLE_ARN, RoleSessionName: "pipeline" };
  if (lab.DURATION_SECONDS) request.DurationSeconds = Number(lab.DURATION_SECONDS);
  const sts = new STSClient({});
  let assumed;
  try {
    assumed = await sts.send(new AssumeRoleCommand(request));
  } catch (e) {
    e.operation = "AssumeRole";
    throw e;
  }
  const { AccessKeyId, SecretAccessKey, SessionToken, Expiration } = assumed.Credentials;
  lab.log(`assumed ${lab.ROLE_ARN}; keys kept, expiring ${Expiration.toISOString()}`);
  return lab.runPipeline(
    lab.clients({
      accessKeyId: AccessKeyId,
      secretAccessKey: SecretAccessKey,
      sessionToken: SessionToken,
    }),
  );
});
