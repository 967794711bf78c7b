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
    if "PutObject" not in OPERATIONS:
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
            else:
                raise ValueError(f"unknown operation {operation}")
            calls += 1
        tick = max(tick + 1, math.ceil((time.time() - start) / EVERY_SECONDS))
    return calls
