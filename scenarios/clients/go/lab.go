// The seed's pipeline on aws-sdk-go-v2, for clients libfaketime cannot accelerate: Go binaries
// read the clock through the vDSO, not libc, so this one runs on real time (a lifetime-
// compressed scenario makes its credentials short instead).
//
// Parameters come from the harness as for every `process` client (STS_LAB_LENGTH_SECONDS,
// STS_LAB_EVERY_SECONDS, STS_LAB_OPERATIONS, STS_LAB_BUCKET, STS_LAB_OBJECT_SIZE,
// STS_LAB_ROLE_ARN, STS_LAB_DURATION_SECONDS; the mock's endpoint in AWS_ENDPOINT_URL; the
// generated AWS config files). aws-sdk-go-v2 1.17 (Debian's) predates AWS_ENDPOINT_URL, so the
// endpoint is given through a resolver; everything else is the SDK's own.
//
//	lab manual-env     AssumeRole once at start-up, keys pinned as static credentials (the seed)
//	lab default-chain  config.LoadDefaultConfig: the profile's role_arn + source_profile, the
//	                   SDK's assume-role provider behind its credentials cache, which refreshes
//	                   when the keys are expired; STS_LAB_GO_EXPIRY_WINDOW=SECONDS sets the
//	                   cache's ExpiryWindow (default 0, the SDK's: cockroachdb/cockroach#169764)
//
// Exits 0 when the job completes, 1 on the first failed call (the SDK's error on stderr).
//
// Built offline in GOPATH mode against Debian's golang-github-aws-aws-sdk-go-v2-dev:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o lab-go scenarios/clients/go/lab.go
package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func env(name, fallback string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return fallback
}

func seconds(name, fallback string) time.Duration {
	v, err := strconv.ParseFloat(env(name, fallback), 64)
	if err != nil {
		fail(fmt.Errorf("%s: %v", name, err))
	}
	return time.Duration(v * float64(time.Second))
}

func logf(format string, args ...interface{}) {
	fmt.Printf("%s %s\n", time.Now().UTC().Format("2006-01-02T15:04:05Z"), fmt.Sprintf(format, args...))
}

func fail(err error) {
	logf("failed: %v", err)
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

func main() {
	if len(os.Args) != 2 || (os.Args[1] != "manual-env" && os.Args[1] != "default-chain") {
		fmt.Fprintln(os.Stderr, "usage: lab manual-env|default-chain")
		os.Exit(2)
	}
	ctx := context.Background()
	endpoint := env("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
	resolver := aws.EndpointResolverWithOptionsFunc(
		func(service, region string, _ ...interface{}) (aws.Endpoint, error) {
			return aws.Endpoint{URL: endpoint, HostnameImmutable: true, SigningRegion: region}, nil
		})
	options := []func(*config.LoadOptions) error{
		config.WithRegion(env("AWS_REGION", "us-east-1")),
		config.WithEndpointResolverWithOptions(resolver),
	}
	if window := os.Getenv("STS_LAB_GO_EXPIRY_WINDOW"); window != "" {
		d := seconds("STS_LAB_GO_EXPIRY_WINDOW", "0")
		options = append(options, config.WithCredentialsCacheOptions(func(o *aws.CredentialsCacheOptions) {
			o.ExpiryWindow = d
		}))
	}
	if d := os.Getenv("STS_LAB_DURATION_SECONDS"); d != "" {
		duration := seconds("STS_LAB_DURATION_SECONDS", "3600")
		options = append(options, config.WithAssumeRoleCredentialOptions(func(o *stscreds.AssumeRoleOptions) {
			o.Duration = duration
		}))
	}
	cfg, err := config.LoadDefaultConfig(ctx, options...)
	if err != nil {
		fail(err)
	}
	if os.Args[1] == "manual-env" {
		cfg = pinAssumedKeys(ctx, cfg)
	}
	calls, err := runPipeline(ctx, cfg)
	if err != nil {
		fail(err)
	}
	logf("job complete: %d calls", calls)
}

// pinAssumedKeys is the seed's start-up: AssumeRole once with the profile's long-term keys,
// then every client signs with the temporary keys, which nothing renews.
func pinAssumedKeys(ctx context.Context, cfg aws.Config) aws.Config {
	input := &sts.AssumeRoleInput{
		RoleArn:         aws.String(env("STS_LAB_ROLE_ARN", "arn:aws:iam::123456789012:role/cross-account-s3")),
		RoleSessionName: aws.String("pipeline"),
	}
	if d := os.Getenv("STS_LAB_DURATION_SECONDS"); d != "" {
		n, err := strconv.ParseInt(d, 10, 32)
		if err != nil {
			fail(fmt.Errorf("STS_LAB_DURATION_SECONDS: %v", err))
		}
		input.DurationSeconds = aws.Int32(int32(n))
	}
	out, err := sts.NewFromConfig(cfg).AssumeRole(ctx, input)
	if err != nil {
		fail(err)
	}
	c := out.Credentials
	logf("assumed %s; keys pinned, expiring %s", *input.RoleArn, c.Expiration.UTC().Format(time.RFC3339))
	cfg.Credentials = credentials.NewStaticCredentialsProvider(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
	return cfg
}

// runPipeline is the job: one round of STS_LAB_OPERATIONS every STS_LAB_EVERY_SECONDS for
// STS_LAB_LENGTH_SECONDS, counted from start-up; rounds start on a fixed schedule and rounds a
// slow call made impossible are skipped, as lab.py does. Returns the calls made.
func runPipeline(ctx context.Context, cfg aws.Config) (int, error) {
	length := seconds("STS_LAB_LENGTH_SECONDS", "14400")
	every := seconds("STS_LAB_EVERY_SECONDS", "10")
	if every <= 0 {
		return 0, fmt.Errorf("STS_LAB_EVERY_SECONDS must be positive")
	}
	operations := strings.Split(env("STS_LAB_OPERATIONS", "PutObject,GetObject"), ",")
	bucket := env("STS_LAB_BUCKET", "pipeline-data")
	size, err := strconv.Atoi(env("STS_LAB_OBJECT_SIZE", "1024"))
	if err != nil {
		return 0, fmt.Errorf("STS_LAB_OBJECT_SIZE: %v", err)
	}
	key := "pipeline/part-0000"
	body := make([]byte, size)
	for i := range body {
		body[i] = byte((i * 31) % 256)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	stsClient := sts.NewFromConfig(cfg)
	put := func() error {
		_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(body)})
		return err
	}
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		return 0, err
	}
	if err := put(); err != nil {
		return 0, err
	}
	start := jobStart
	end := start.Add(length)
	calls := 0
	for tick := int64(0); start.Add(time.Duration(tick) * every).Before(end); {
		due := start.Add(time.Duration(tick) * every)
		if wait := time.Until(due); wait > 0 {
			time.Sleep(wait)
		}
		for _, operation := range operations {
			var err error
			switch operation {
			case "PutObject":
				err = put()
			case "GetObject":
				var out *s3.GetObjectOutput
				out, err = client.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
				if err == nil {
					_, err = io.Copy(io.Discard, out.Body)
					out.Body.Close()
				}
			case "HeadObject":
				_, err = client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key})
			case "GetCallerIdentity":
				_, err = stsClient.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			default:
				return calls, fmt.Errorf("operation %s is not implemented by the Go client", operation)
			}
			if err != nil {
				return calls, fmt.Errorf("%s: %w", operation, err)
			}
			calls++
		}
		// ceil(elapsed / every): the next round still due.
		next := int64((time.Since(start) + every - 1) / every)
		if next > tick+1 {
			tick = next
		} else {
			tick++
		}
	}
	return calls, nil
}

// The job's length counts from its start-up, before the first call, as lab.py's does.
var jobStart = time.Now()
