-- Which buckets make KMS calls through S3, and do they use an S3 Bucket Key?
SELECT s3_bucket, bucket_key, principal, sum(calls) AS calls
FROM 'out/kms_calls.parquet'
WHERE s3_bucket IS NOT NULL
GROUP BY ALL
ORDER BY calls DESC;
