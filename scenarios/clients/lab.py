"""What the example clients share: the harness's parameters and the seed's workload loop.

`sts-harness` (strategy = "process") hands a program the scenario's parameters as environment
variables (STS_LAB_LENGTH_SECONDS, STS_LAB_EVERY_SECONDS, ...), the mock's endpoint in
AWS_ENDPOINT_URL and generated AWS config files, so the clients below use boto3 exactly as a
production job would: nothing here knows about the mock. Run on their own, the defaults are the
seed's job (4 hours, one round every 10 s, PutObject then GetObject).

Time is read with time.time() and waited with time.sleep(): under the harness, libfaketime
accelerates both, so a 4-hour job takes 40 s of wall time at x360.
"""

import math
import os
import time

LENGTH_SECONDS = float(os.environ.get("STS_LAB_LENGTH_SECONDS", "14400"))
EVERY_SECONDS = float(os.environ.get("STS_LAB_EVERY_SECONDS", "10"))
OPERATIONS = os.environ.get("STS_LAB_OPERATIONS", "PutObject,GetObject").split(",")
BUCKET = os.environ.get("STS_LAB_BUCKET", "pipeline-data")
OBJECT_SIZE = int(os.environ.get("STS_LAB_OBJECT_SIZE", "1024"))
ROLE_ARN = os.environ.get(
    "STS_LAB_ROLE_ARN", "arn:aws:iam::123456789012:role/cross-account-s3"
)
# DurationSeconds to ask AssumeRole for, when the scenario sets duration_seconds.
DURATION_SECONDS = os.environ.get("STS_LAB_DURATION_SECONDS")

KEY = "pipeline/part-0000"

# MultipartUpload: parts, their sizes (bytes) and the bandwidth (bytes per simulated second).
PARTS = int(os.environ.get("STS_LAB_PARTS", "3"))
PART_SIZE = int(os.environ.get("STS_LAB_PART_SIZE", str(5 * 1024 * 1024)))
LAST_PART_SIZE = int(os.environ.get("STS_LAB_LAST_PART_SIZE", str(PART_SIZE)))
BANDWIDTH = float(os.environ.get("STS_LAB_BANDWIDTH", str(10 * 1024 * 1024)))
# Presigned*: the URL's validity and how long after presigning it is used.
PRESIGN_EXPIRES_SECONDS = int(os.environ.get("STS_LAB_PRESIGN_EXPIRES_SECONDS", "3600"))
PRESIGN_USE_AFTER_SECONDS = float(os.environ.get("STS_LAB_PRESIGN_USE_AFTER_SECONDS", "0"))

# The job's length counts from its start-up, before the client assumes a role or makes a call:
# a 4-hour job with 4-hour keys finishes just before they expire, as the seed's did.
JOB_START = time.time()


def log(message):
    """One line on stdout, stamped with the (faked) UTC time."""
    print(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), message, flush=True)


def run_pipeline(session):
    """The job: one round of OPERATIONS every EVERY_SECONDS for LENGTH_SECONDS.

    Rounds start on a fixed schedule (JOB_START + k x every), so a slow call does not push
    every later one back; rounds a slow call made impossible are skipped. The first failing
    call raises the SDK's error. Returns the number of calls made.
    """
    s3 = session.client("s3")
    sts = session.client("sts")
    body = bytes((i * 31) % 256 for i in range(OBJECT_SIZE))
    s3.create_bucket(Bucket=BUCKET)
    if not {"PutObject", "PresignedPutObject", "MultipartUpload"} & set(OPERATIONS):
        s3.put_object(Bucket=BUCKET, Key=KEY, Body=body)
    start = JOB_START
    end = start + LENGTH_SECONDS
    tick = 0
    calls = 0
    while start + tick * EVERY_SECONDS < end:
        due = start + tick * EVERY_SECONDS
        now = time.time()
        if due > now:
            time.sleep(due - now)
        for operation in OPERATIONS:
            if operation == "PutObject":
                s3.put_object(Bucket=BUCKET, Key=KEY, Body=body)
            elif operation == "GetObject":
                s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read()
            elif operation == "HeadObject":
                s3.head_object(Bucket=BUCKET, Key=KEY)
            elif operation == "ListObjectsV2":
                s3.list_objects_v2(Bucket=BUCKET, Prefix="pipeline/")
            elif operation == "GetCallerIdentity":
                sts.get_caller_identity()
            elif operation == "MultipartUpload":
                multipart_upload(s3)
            elif operation in ("PresignedGetObject", "PresignedPutObject"):
                presigned(session, operation, body)
            else:
                raise ValueError(f"unknown operation {operation}")
            calls += 1
        tick = max(tick + 1, math.ceil((time.time() - start) / EVERY_SECONDS))
    return calls


def run_job(session):
    """Runs the pipeline on `session` as a job does; returns its exit status: 0 when it
    completes, 1 on the first failed call, whose operation, code and message it logs."""
    from botocore.exceptions import ClientError

    try:
        calls = run_pipeline(session)
    except ClientError as e:
        error = e.response["Error"]
        log(f"{e.operation_name} failed: {error['Code']}: {error['Message']}")
        return 1
    log(f"job complete: {calls} calls")
    return 0


def multipart_upload(s3):
    """One upload of PARTS parts, each taking its size / BANDWIDTH of (faked) time on the
    wire; aborted after a failed part, as the AWS CLI does, and the part's error raised."""
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key=KEY)["UploadId"]
    parts = []
    for n in range(1, PARTS + 1):
        size = LAST_PART_SIZE if n == PARTS else PART_SIZE
        try:
            out = s3.upload_part(
                Bucket=BUCKET, Key=KEY, UploadId=upload, PartNumber=n, Body=bytes([n % 251]) * size
            )
        except Exception:
            try:
                s3.abort_multipart_upload(Bucket=BUCKET, Key=KEY, UploadId=upload)
            finally:
                raise
        part = {"PartNumber": n, "ETag": out["ETag"]}
        for checksum in ("ChecksumCRC32", "ChecksumCRC32C", "ChecksumCRC64NVME"):
            if checksum in out:
                part[checksum] = out[checksum]
        parts.append(part)
        time.sleep(size / BANDWIDTH)
    s3.complete_multipart_upload(
        Bucket=BUCKET, Key=KEY, UploadId=upload, MultipartUpload={"Parts": parts}
    )


def presigned(session, operation, body):
    """Presign a GET or PUT now, use it PRESIGN_USE_AFTER_SECONDS later with plain urllib (no
    SDK signs it again); an S3 error document is raised as botocore's ClientError.

    SigV4 explicitly: in us-east-1 botocore 1.44 still presigns S3 URLs with SigV2 by default,
    which S3 refuses for buckets created since June 2020 (InvalidRequest, "Please use
    AWS4-HMAC-SHA256"), and so does the mock.
    """
    import urllib.error
    import urllib.request

    from botocore.config import Config
    from botocore.exceptions import ClientError

    s3 = session.client("s3", config=Config(signature_version="s3v4"))
    method = "put_object" if operation == "PresignedPutObject" else "get_object"
    url = s3.generate_presigned_url(
        method, Params={"Bucket": BUCKET, "Key": KEY}, ExpiresIn=PRESIGN_EXPIRES_SECONDS
    )
    time.sleep(PRESIGN_USE_AFTER_SECONDS)
    request = urllib.request.Request(
        url,
        data=body if method == "put_object" else None,
        method="PUT" if method == "put_object" else "GET",
    )
    try:
        with urllib.request.urlopen(request) as response:
            response.read()
    except urllib.error.HTTPError as e:
        text = e.read().decode("utf-8", "replace")
        code = text.split("<Code>", 1)[-1].split("</Code>", 1)[0] if "<Code>" in text else str(e.code)
        message = (
            text.split("<Message>", 1)[-1].split("</Message>", 1)[0] if "<Message>" in text else ""
        )
        raise ClientError({"Error": {"Code": code, "Message": message}}, operation) from None
