// What the JS v3 example clients share: the harness's parameters and the seed's workload loop,
// as ../lab.py has them for boto3.
//
// `sts-harness` (strategy = "process") hands a program the scenario's parameters as environment
// variables (STS_LAB_LENGTH_SECONDS, STS_LAB_EVERY_SECONDS, ...), the mock's endpoint in
// AWS_ENDPOINT_URL and generated AWS config files, so the clients use the AWS SDK for
// JavaScript v3 exactly as a production job would: nothing here knows about the mock. Run on
// their own, the defaults are the seed's job (4 hours, one round every 10 s, PutObject then
// GetObject).
//
// Time is read with Date.now() and waited with setTimeout(): under the harness, libfaketime
// accelerates both (shared/measured-clients.md §3), so a 4-hour job takes 40 s at x360.

// The SDK: the pinned node_modules, or a version matrix row's (./sdk.mjs), loaded before the
// job's start time is taken.
import * as sdk from "./sdk.mjs";

const {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} = sdk.S3;

// The job's length counts from its start-up, before the client assumes a role or makes a call,
// as lab.py's does. Module evaluation comes before the importing script's body.
const JOB_START = Date.now();

// SDK releases after early January 2027 need node >= 22; the pinned ones print an 8-line
// NodeVersionSupportWarning on stderr under node 20, which would push a failing run's own
// lines out of the report's tail. The SDK's own switch turns it off (the harness clears the
// environment, so it is set here); run with AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=false
// to see it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const env = process.env;
export const LENGTH_SECONDS = Number(env.STS_LAB_LENGTH_SECONDS ?? "14400");
export const EVERY_SECONDS = Number(env.STS_LAB_EVERY_SECONDS ?? "10");
export const OPERATIONS = (env.STS_LAB_OPERATIONS ?? "PutObject,GetObject").split(",");
export const BUCKET = env.STS_LAB_BUCKET ?? "pipeline-data";
export const OBJECT_SIZE = Number(env.STS_LAB_OBJECT_SIZE ?? "1024");
export const ROLE_ARN =
  env.STS_LAB_ROLE_ARN ?? "arn:aws:iam::123456789012:role/cross-account-s3";
// DurationSeconds to ask AssumeRole for, when the scenario sets duration_seconds.
export const DURATION_SECONDS = env.STS_LAB_DURATION_SECONDS;

const KEY = "pipeline/part-0000";

// MultipartUpload: parts, their sizes (bytes) and the bandwidth (bytes per simulated second).
const PARTS = Number(env.STS_LAB_PARTS ?? "3");
const PART_SIZE = Number(env.STS_LAB_PART_SIZE ?? String(5 * 1024 * 1024));
const LAST_PART_SIZE = Number(env.STS_LAB_LAST_PART_SIZE ?? String(PART_SIZE));
const BANDWIDTH = Number(env.STS_LAB_BANDWIDTH ?? String(10 * 1024 * 1024));

/** One line on stdout, stamped with the (faked) UTC time, as lab.py's log. */
export function log(message) {
  console.log(`${new Date().toISOString().replace(/\.\d{3}Z$/, "Z")} ${message}`);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The clients the job uses. `credentials` is the SDK's option: keys, or a provider function;
 * undefined leaves each client its default chain. S3 needs path-style addressing, set in code:
 * the endpoint is an IP address, and JS v3 does not read `addressing_style` from the config.
 */
export function clients(credentials) {
  return {
    s3: new S3Client({ credentials, forcePathStyle: true }),
    // Absent only in a matrix row whose environment has no @aws-sdk/client-sts.
    sts: sdk.STS_LOADED ? new (sdk.sts().STSClient)({ credentials }) : undefined,
  };
}

/**
 * The job: one round of OPERATIONS every EVERY_SECONDS for LENGTH_SECONDS.
 *
 * Rounds start on a fixed schedule (JOB_START + k x every), so a slow call does not push every
 * later one back; rounds a slow call made impossible are skipped. The first failing call
 * throws the SDK's error, with `operation` set to the operation's name. Returns the number of
 * calls made.
 */
export async function runPipeline({ s3, sts }) {
  const body = Buffer.from(Array.from({ length: OBJECT_SIZE }, (_, i) => (i * 31) % 256));
  const call = async (operation, command) => {
    try {
      return await command();
    } catch (e) {
      e.operation = operation;
      throw e;
    }
  };
  const put = () =>
    call("PutObject", () => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: body })));
  await call("CreateBucket", () => s3.send(new CreateBucketCommand({ Bucket: BUCKET })));
  if (!OPERATIONS.some((o) => ["PutObject", "MultipartUpload"].includes(o))) await put();
  const every = EVERY_SECONDS * 1000;
  const end = JOB_START + LENGTH_SECONDS * 1000;
  let tick = 0;
  let calls = 0;
  while (JOB_START + tick * every < end) {
    const due = JOB_START + tick * every;
    const now = Date.now();
    if (due > now) await sleep(due - now);
    for (const operation of OPERATIONS) {
      switch (operation) {
        case "PutObject":
          await put();
          break;
        case "GetObject":
          await call("GetObject", async () => {
            const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY }));
            return object.Body.transformToByteArray();
          });
          break;
        case "HeadObject":
          await call("HeadObject", () =>
            s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: KEY })),
          );
          break;
        case "ListObjectsV2":
          await call("ListObjectsV2", () =>
            s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "pipeline/" })),
          );
          break;
        case "GetCallerIdentity":
          {
            // Throws, naming the package, in a matrix row without @aws-sdk/client-sts.
            const { GetCallerIdentityCommand } = sdk.sts();
            await call("GetCallerIdentity", () => sts.send(new GetCallerIdentityCommand({})));
          }
          break;
        case "MultipartUpload":
          await multipartUpload(s3, call);
          break;
        case "PresignedGetObject":
        case "PresignedPutObject":
          // Presigning needs @aws-sdk/s3-request-presigner, which the lock file does not pin yet.
          throw new Error(`${operation} is not implemented by the JS example clients (lab.py has it)`);
        default:
          throw new Error(`unknown operation ${operation}`);
      }
      calls += 1;
    }
    tick = Math.max(tick + 1, Math.ceil((Date.now() - JOB_START) / every));
  }
  return calls;
}

/**
 * One upload of PARTS parts, each taking its size / BANDWIDTH of (faked) time on the wire;
 * aborted after a failed part, as the AWS CLI does, and the part's error thrown.
 */
async function multipartUpload(s3, call) {
  const created = await call("CreateMultipartUpload", () =>
    s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: KEY })),
  );
  const UploadId = created.UploadId;
  const parts = [];
  for (let n = 1; n <= PARTS; n += 1) {
    const size = n === PARTS ? LAST_PART_SIZE : PART_SIZE;
    let out;
    try {
      out = await call("UploadPart", () =>
        s3.send(
          new UploadPartCommand({
            Bucket: BUCKET,
            Key: KEY,
            UploadId,
            PartNumber: n,
            Body: Buffer.alloc(size, n % 251),
          }),
        ),
      );
    } catch (e) {
      await s3
        .send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: KEY, UploadId }))
        .catch(() => {});
      throw e;
    }
    const part = { PartNumber: n, ETag: out.ETag };
    for (const checksum of ["ChecksumCRC32", "ChecksumCRC32C", "ChecksumCRC64NVME"]) {
      if (out[checksum]) part[checksum] = out[checksum];
    }
    parts.push(part);
    await sleep((size / BANDWIDTH) * 1000);
  }
  await call("CompleteMultipartUpload", () =>
    s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: KEY,
        UploadId,
        MultipartUpload: { Parts: parts },
      }),
    ),
  );
}

/**
 * Runs `job` and returns the exit status: 0 when it completes, 1 on the first call AWS answered
 * with an error (logged as lab.py's clients log it). Anything else (a credential provider that
 * cannot load, a bug) is not caught: node prints it on stderr and exits 1.
 */
export async function main(job) {
  try {
    const calls = await job();
    log(`job complete: ${calls} calls`);
    return 0;
  } catch (e) {
    // Service errors carry the AWS error code as their name and the response's metadata.
    if (e?.$metadata?.httpStatusCode === undefined) throw e;
    log(`${e.operation ?? "call"} failed: ${e.name}: ${e.message}`);
    return 1;
  }
}
